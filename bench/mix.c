/* CoreMark-like compute mix: linked-list operations, matrix multiply, a state machine
 * scanning text, and CRC-16; prints a checksum so both tiers can be compared. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ITER 40
#define LIST_N 400
#define MAT_N 24
#define TEXT_N 4096

struct node { struct node *next; int32_t key; int32_t val; };

static uint16_t crc16(uint16_t crc, uint8_t b) {
    crc ^= b;
    for (int i = 0; i < 8; i++) crc = (crc & 1) ? (crc >> 1) ^ 0xA001 : crc >> 1;
    return crc;
}

static uint32_t rng = 12345;
static uint32_t next_rand(void) { rng = rng * 1103515245u + 12345u; return rng >> 8; }

static int32_t list_work(struct node *nodes) {
    struct node *head = NULL;
    for (int i = 0; i < LIST_N; i++) {
        nodes[i].key = (int32_t)(next_rand() % 1000);
        nodes[i].val = i;
        nodes[i].next = head;
        head = &nodes[i];
    }
    /* reverse, then find, then insertion-sort by key */
    struct node *rev = NULL;
    while (head) { struct node *n = head->next; head->next = rev; rev = head; head = n; }
    int32_t found = 0;
    for (int k = 0; k < 50; k++)
        for (struct node *p = rev; p; p = p->next)
            if (p->key == k * 20) { found += p->val; break; }
    struct node *sorted = NULL;
    while (rev) {
        struct node *n = rev; rev = rev->next;
        struct node **pp = &sorted;
        while (*pp && (*pp)->key < n->key) pp = &(*pp)->next;
        n->next = *pp; *pp = n;
    }
    int32_t acc = found;
    for (struct node *p = sorted; p; p = p->next) acc = acc * 31 + p->key;
    return acc;
}

static int32_t matrix_work(int32_t *a, int32_t *b, int32_t *c) {
    for (int i = 0; i < MAT_N * MAT_N; i++) { a[i] = (int32_t)(next_rand() & 0xff); b[i] = (int32_t)(next_rand() & 0xff); }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT_N; k++) s += a[i * MAT_N + k] * b[k * MAT_N + j];
            c[i * MAT_N + j] = s;
        }
    int32_t acc = 0;
    for (int i = 0; i < MAT_N * MAT_N; i++) acc ^= c[i] + i;
    return acc;
}

enum state { START, INT, FLOAT, EXP, INVALID };

static int32_t state_work(char *text) {
    static const char alphabet[] = "0123456789.e+- ,";
    for (int i = 0; i < TEXT_N; i++) text[i] = alphabet[next_rand() % 16];
    int32_t counts[5] = {0};
    enum state s = START;
    for (int i = 0; i < TEXT_N; i++) {
        char ch = text[i];
        if (ch == ',' || ch == ' ') { counts[s]++; s = START; continue; }
        switch (s) {
        case START: s = (ch >= '0' && ch <= '9') ? INT : (ch == '.' ? FLOAT : INVALID); break;
        case INT: if (ch == '.') s = FLOAT; else if (ch == 'e') s = EXP; else if (ch < '0' || ch > '9') s = INVALID; break;
        case FLOAT: if (ch == 'e') s = EXP; else if (ch < '0' || ch > '9') s = INVALID; break;
        case EXP: if (!(ch >= '0' && ch <= '9') && ch != '+' && ch != '-') s = INVALID; break;
        default: break;
        }
    }
    return counts[0] + counts[1] * 3 + counts[2] * 5 + counts[3] * 7 + counts[4] * 11;
}

int main(void) {
    struct node *nodes = malloc(sizeof(struct node) * LIST_N);
    int32_t *m = malloc(sizeof(int32_t) * MAT_N * MAT_N * 3);
    char *text = malloc(TEXT_N);
    uint16_t crc = 0;
    for (int it = 0; it < ITER; it++) {
        int32_t r[3] = { list_work(nodes), matrix_work(m, m + MAT_N * MAT_N, m + 2 * MAT_N * MAT_N), state_work(text) };
        for (int i = 0; i < 3; i++)
            for (int b = 0; b < 4; b++) crc = crc16(crc, (uint8_t)(r[i] >> (8 * b)));
        for (int i = 0; i < TEXT_N; i++) crc = crc16(crc, (uint8_t)text[i]);
    }
    printf("mix crc %04x\n", crc);
    return 0;
}

/* adventure: "The Clew", a small text adventure in the spirit of Zork.
 *
 * Theseus must reach the heart of the labyrinth of Knossos and sail home with
 * the golden crown. Commands are read from stdin one line at a time (prompt
 * "> "); EOF ends the game cleanly. Verbs: look, go DIR (or n/s/e/w, north..),
 * take/get ITEM, drop ITEM, examine ITEM, inventory (i), score, help, quit.
 *
 * A winning walkthrough (it is deterministic: there is no randomness):
 *   n, w, take key, take thread, e, e, take cake, w, n, n, n, drop cake, n,
 *   take crown, s, s, s, s, s
 */
#include <ctype.h>

#include "common/util.h"

enum { HARBOUR, COURTYARD, KITCHEN, GARDEN, GATE, PASSAGES, HALL, TREASURY, NROOMS };
enum { N, S, E, W, NDIRS };
#define NOWHERE (-1)
#define CARRIED (-2)
#define GONE (-3)

struct room {
    const char *name, *desc;
    int exits[NDIRS];
};

static const struct room rooms[NROOMS] = {
    [HARBOUR] = {"Harbour", "Your black-sailed ship rocks at the quay. The palace of Knossos rises\n"
                 "to the north.",
                 {COURTYARD, NOWHERE, NOWHERE, NOWHERE}},
    [COURTYARD] = {"Palace courtyard", "Painted columns surround a sunny court. A kitchen lies east, a garden\n"
                   "west, and a dark gate north. The harbour is south.",
                   {GATE, HARBOUR, KITCHEN, GARDEN}},
    [KITCHEN] = {"Kitchen", "Copper pots hang above a cold hearth. The only way out is west.",
                 {NOWHERE, NOWHERE, NOWHERE, COURTYARD}},
    [GARDEN] = {"Garden", "An old fig tree shades a bench where Ariadne often sits. The courtyard\n"
                "is east.",
                {NOWHERE, NOWHERE, COURTYARD, NOWHERE}},
    [GATE] = {"Labyrinth gate", "A massive bronze door leads north into the labyrinth. The courtyard is\n"
              "south.",
              {PASSAGES, COURTYARD, NOWHERE, NOWHERE}},
    [PASSAGES] = {"Twisting passages", "Corridors branch in every direction, all alike. The gate is south.",
                  {HALL, GATE, PASSAGES, PASSAGES}},
    [HALL] = {"Hall of the Minotaur", "Bones litter the floor of a great hall. An arch opens north;\n"
              "the passages are south.",
              {TREASURY, PASSAGES, NOWHERE, NOWHERE}},
    [TREASURY] = {"Treasury", "Gold glimmers in the lamplight of the labyrinth's heart. The hall is\n"
                  "south.",
                  {NOWHERE, HALL, NOWHERE, NOWHERE}},
};

struct item {
    const char *name, *alias, *here, *detail;
    int where, points;
};

enum { KEY, THREAD, CAKE, CROWN, NITEMS };
static struct item items[NITEMS] = {
    [KEY] = {"key", "bronze", "A bronze key lies among the fig roots.",
             "A heavy bronze key, green with age.", GARDEN, 5},
    [THREAD] = {"thread", "clew", "A ball of red thread rests on the bench.",
                "Ariadne's clew: tie one end at the gate and you will never be lost.", GARDEN, 5},
    [CAKE] = {"cake", "honey", "A honey cake cools on the table.",
              "Sticky, sweet and enormous. Even a monster would like it.", KITCHEN, 5},
    [CROWN] = {"crown", "gold", "A golden crown sits on a pedestal.",
               "The crown of Minos, heavy with gold.", TREASURY, 25},
};

static int here = HARBOUR, score, moves, door_open, minotaur_fed, won;
static const int max_score = 100;

static void describe(int full) {
    printf("%s\n", rooms[here].name);
    if (full)
        printf("%s\n", rooms[here].desc);
    if (here == GATE)
        printf("The bronze door is %s.\n", door_open ? "open" : "locked");
    if (here == HALL)
        printf(minotaur_fed ? "The Minotaur snores, full of honey cake.\n"
                            : "The Minotaur paces before the arch, snorting. It looks hungry.\n");
    for (int i = 0; i < NITEMS; i++)
        if (items[i].where == here)
            printf("%s\n", items[i].here);
}

static int find_item(const char *word) {
    for (int i = 0; i < NITEMS; i++)
        if (strcmp(word, items[i].name) == 0 || strcmp(word, items[i].alias) == 0)
            return i;
    return -1;
}

static void award(int points, const char *why) {
    score += points;
    printf("[%s: +%d points]\n", why, points);
}

static void win(void) {
    printf("You set sail with the crown of Minos and Ariadne's thread.\n"
           "Athens will sing of this.\n");
    award(35, "sailed home");
    printf("*** You have won! Score: %d of %d, in %d moves. ***\n", score, max_score, moves);
    won = 1;
}

static void go(int dir) {
    int to = rooms[here].exits[dir];
    if (to == NOWHERE) {
        printf("You can't go that way.\n");
        return;
    }
    if (here == GATE && dir == N && !door_open) {
        if (items[KEY].where != CARRIED) {
            printf("The bronze door is locked.\n");
            return;
        }
        printf("You unlock the bronze door with the key. It swings open with a groan.\n");
        door_open = 1;
        award(10, "opened the door");
    }
    if (here == PASSAGES && items[THREAD].where != CARRIED && dir != S) {
        printf("You wander the passages for hours and stumble back to the gate.\n");
        to = GATE;
    } else if (here == PASSAGES && dir != S && to == PASSAGES) {
        printf("Your thread shows you have been here before.\n");
    }
    if (here == HALL && dir == N && !minotaur_fed) {
        printf("The Minotaur bars the arch with its horns. You back away.\n");
        return;
    }
    here = to;
    moves++;
    if (here == HARBOUR && items[CROWN].where == CARRIED) {
        describe(1);
        win();
        return;
    }
    describe(1);
}

static void take(const char *word) {
    int i = find_item(word);
    if (i < 0 || items[i].where != here) {
        printf("You see no %s here.\n", word);
        return;
    }
    items[i].where = CARRIED;
    printf("Taken.\n");
    if (items[i].points > 0) {
        award(items[i].points, i == CROWN ? "found the crown" : "found something useful");
        items[i].points = 0;
    }
}

static void drop(const char *word) {
    int i = find_item(word);
    if (i < 0 || items[i].where != CARRIED) {
        printf("You have no %s.\n", word);
        return;
    }
    if (i == CAKE && here == HALL && !minotaur_fed) {
        printf("The Minotaur devours the honey cake and falls into a deep sleep.\n");
        items[i].where = GONE;
        minotaur_fed = 1;
        award(15, "fed the Minotaur");
        return;
    }
    items[i].where = here;
    printf("Dropped.\n");
}

static void examine(const char *word) {
    int i = find_item(word);
    if (i >= 0 && (items[i].where == CARRIED || items[i].where == here))
        printf("%s\n", items[i].detail);
    else if (strcmp(word, "minotaur") == 0 && here == HALL)
        printf("Half man, half bull, all appetite.\n");
    else if (strcmp(word, "door") == 0 && here == GATE)
        printf("Bronze, studded and %s.\n", door_open ? "open" : "locked");
    else
        printf("You see no %s here.\n", word);
}

static void inventory(void) {
    int any = 0;
    for (int i = 0; i < NITEMS; i++)
        if (items[i].where == CARRIED) {
            printf("%s  %s\n", any ? "" : "You carry:\n", items[i].name);
            any = 1;
        }
    if (!any)
        printf("You are empty-handed.\n");
}

static void help(void) {
    printf("Commands: look, go north|south|east|west (or n, s, e, w), take ITEM, drop ITEM,\n"
           "examine ITEM, inventory (i), score, help, quit.\n");
}

static int parse_dir(const char *w) {
    static const char *names[NDIRS][2] = {{"n", "north"}, {"s", "south"}, {"e", "east"}, {"w", "west"}};
    for (int d = 0; d < NDIRS; d++)
        if (strcmp(w, names[d][0]) == 0 || strcmp(w, names[d][1]) == 0)
            return d;
    return -1;
}

/* Handle one command line; returns 0 when the game ends. */
static int command(char *line) {
    char *verb, *noun, *save = NULL;
    for (char *p = line; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    verb = strtok_r(line, " \t\r\n", &save);
    noun = strtok_r(NULL, " \t\r\n", &save);
    if (noun != NULL && strcmp(noun, "the") == 0)
        noun = strtok_r(NULL, " \t\r\n", &save);
    if (verb == NULL)
        return 1;
    if (parse_dir(verb) >= 0)
        go(parse_dir(verb));
    else if (strcmp(verb, "go") == 0 || strcmp(verb, "walk") == 0) {
        if (noun == NULL || parse_dir(noun) < 0)
            printf("Go where? (north, south, east or west)\n");
        else
            go(parse_dir(noun));
    } else if (strcmp(verb, "look") == 0 || strcmp(verb, "l") == 0)
        describe(1);
    else if (strcmp(verb, "take") == 0 || strcmp(verb, "get") == 0) {
        if (noun == NULL) printf("Take what?\n"); else take(noun);
    } else if (strcmp(verb, "drop") == 0 || strcmp(verb, "give") == 0) {
        if (noun == NULL) printf("Drop what?\n"); else drop(noun);
    } else if (strcmp(verb, "examine") == 0 || strcmp(verb, "x") == 0) {
        if (noun == NULL) printf("Examine what?\n"); else examine(noun);
    } else if (strcmp(verb, "inventory") == 0 || strcmp(verb, "i") == 0)
        inventory();
    else if (strcmp(verb, "score") == 0)
        printf("Score: %d of %d, in %d moves.\n", score, max_score, moves);
    else if (strcmp(verb, "help") == 0)
        help();
    else if (strcmp(verb, "quit") == 0 || strcmp(verb, "q") == 0) {
        printf("Score: %d of %d, in %d moves. Farewell.\n", score, max_score, moves);
        return 0;
    } else
        printf("I don't know how to \"%s\". Type help for the commands.\n", verb);
    return !won;
}

int main(void) {
    char line[256];
    prog_name = "adventure";
    printf("THE CLEW\nA tale of Theseus in the labyrinth of Knossos. Type help for the commands.\n\n");
    describe(1);
    for (;;) {
        printf("> ");
        fflush(stdout);
        if (fgets(line, sizeof line, stdin) == NULL) {
            printf("\n");
            break;
        }
        if (strchr(line, '\n') == NULL && !feof(stdin)) {
            int c;
            while ((c = getchar()) != '\n' && c != EOF)
                ; /* discard the rest of an overlong line */
        }
        if (!command(line))
            break;
    }
    return 0;
}

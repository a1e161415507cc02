/* false: exit with status 1, ignoring all arguments. */
int main(void) { return 1; }

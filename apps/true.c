/* true: exit successfully, ignoring all arguments. */
int main(void) { return 0; }

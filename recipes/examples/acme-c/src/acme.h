/* libacme: the engine's shared library (the part a real backend keeps in a .so). */
const char *acme_version(void);
int acme_greet(const char *conf_dir);

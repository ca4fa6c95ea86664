#include <stdio.h>
#include <string.h>
#include "acme.h"

const char *acme_version(void) { return "1.4.0"; }

/* Prints every line of CONF_DIR/acme.conf and CONF_DIR/models/default.conf, prefixed. */
int acme_greet(const char *conf_dir) {
  const char *names[] = {"acme.conf", "models/default.conf"};
  for (int i = 0; i < 2; i++) {
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/%s", conf_dir, names[i]);
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "acme: cannot open %s\n", path); return 1; }
    while (fgets(line, sizeof line, f)) printf("%s: %s", names[i], line);
    fclose(f);
  }
  return 0;
}

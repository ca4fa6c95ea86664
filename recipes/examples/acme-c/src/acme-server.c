#include <stdio.h>
#include <string.h>
#include "acme.h"

/* acme-server --version | --show-config [DIR] (default /etc/acme) */
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) { printf("acme-server %s\n", acme_version()); return 0; }
  if (argc > 1 && strcmp(argv[1], "--show-config") == 0) return acme_greet(argc > 2 ? argv[2] : "/etc/acme");
  fprintf(stderr, "usage: acme-server --version | --show-config [DIR]\n");
  return 2;
}

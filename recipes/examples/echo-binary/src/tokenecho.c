/* tokenecho: a token-in, token-out echo backend as one static binary, the stand-in for a compiled
 * (C, C++ or Rust) backend in dynamo-image's examples. No dependencies beyond libc.
 *
 *   tokenecho --version
 *   tokenecho echo WORD...          print the tokens as a JSON list
 *   tokenecho serve [PORT]          HTTP: GET /health, GET /echo?q=a+b+c
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VERSION "0.2.0"

static void json_tokens(FILE *out, const char *text) {
  fputs("{\"tokens\":[", out);
  int first = 1;
  const char *p = text;
  while (*p) {
    while (*p == ' ' || *p == '+') p++;
    if (!*p) break;
    const char *start = p;
    while (*p && *p != ' ' && *p != '+') p++;
    fprintf(out, "%s\"", first ? "" : ",");
    for (const char *c = start; c < p; c++) {
      if (*c == '"' || *c == '\\') fputc('\\', out);
      if ((unsigned char)*c >= 0x20) fputc(*c, out);
    }
    fputc('"', out);
    first = 0;
  }
  fputs("]}", out);
}

static void respond(int fd, int status, const char *body) {
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.0 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                   status, status == 200 ? "OK" : "Not Found", strlen(body));
  (void)!write(fd, head, (size_t)n);
  (void)!write(fd, body, strlen(body));
}

static int serve(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 16) < 0) {
    perror("tokenecho: listen");
    return 1;
  }
  printf("tokenecho %s listening on port %d\n", VERSION, port);
  fflush(stdout);
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    char req[2048] = {0};
    ssize_t got = read(c, req, sizeof req - 1);
    if (got > 0) {
      char method[8] = {0}, path[1024] = {0};
      sscanf(req, "%7s %1023s", method, path);
      if (strcmp(path, "/health") == 0) {
        respond(c, 200, "{\"status\":\"ok\",\"version\":\"" VERSION "\"}");
      } else if (strncmp(path, "/echo?q=", 8) == 0) {
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        json_tokens(mem, path + 8);
        fclose(mem);
        respond(c, 200, buf);
        free(buf);
      } else {
        respond(c, 404, "{\"error\":\"no such route\"}");
      }
    }
    close(c);
  }
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("tokenecho %s\n", VERSION);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "echo") == 0) {
    char line[4096] = {0};
    for (int i = 2; i < argc; i++) {
      strncat(line, argv[i], sizeof line - strlen(line) - 2);
      strcat(line, " ");
    }
    json_tokens(stdout, line);
    putchar('\n');
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "serve") == 0) return serve(argc >= 3 ? atoi(argv[2]) : 8000);
  fprintf(stderr, "usage: tokenecho --version | echo WORD... | serve [PORT]\n");
  return 2;
}

/*
 * A recording stand-in for Windows OpenSSH's ssh.exe, which cannot run under
 * Wine here. It writes its argv, one argument a line, to %FAKE_SSH_LOG%,
 * checks that the file after -i exists and holds an RSA private key (and
 * writes only "key: rsa" or "key: missing", never the key), then exits 7 so
 * the caller can check that the exit code is passed through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *log_path = getenv("FAKE_SSH_LOG");
    FILE *log = log_path ? fopen(log_path, "wb") : NULL; /* "wb": no CRLF */
    const char *key = NULL;
    int i;
    if (!log)
        return 99;
    for (i = 1; i < argc; i++) {
        fprintf(log, "%s\n", argv[i]);
        if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
            key = argv[i + 1];
    }
    if (key) {
        char head[40] = {0};
        FILE *f = fopen(key, "r");
        if (f && fgets(head, sizeof head, f) && strncmp(head, "-----BEGIN RSA PRIVATE KEY-----", 31) == 0)
            fprintf(log, "key: rsa\n");
        else
            fprintf(log, "key: missing\n");
        if (f)
            fclose(f);
    }
    fclose(log);
    return 7;
}

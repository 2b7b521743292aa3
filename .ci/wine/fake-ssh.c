/*
 * A recording stand-in for Windows OpenSSH's ssh.exe, which cannot run under
 * Wine here. It writes its argv, one argument a line, to %FAKE_SSH_LOG%,
 * then checks what a real ssh.exe would use, writing only what it found,
 * never a secret:
 *  - the file after -i: "key: rsa" (an RSA private key), "key: public" (an
 *    OpenSSH public key, as with the agent) or "key: missing";
 *  - -o IdentityAgent=VALUE: VALUE unquoted as ssh's argv_split does
 *    ("agent: PATH"), then opened as the named pipe ssh.exe would open, asked
 *    for its identities with the ssh-agent protocol, and each key's comment
 *    written ("agent key: COMMENT"), or "agent: unreachable".
 * Then it exits 7 so the caller can check that the exit code is passed through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

static unsigned long be32(const unsigned char *p)
{
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | p[3];
}

/* ssh's argv_split for one value: quotes removed, \\ \" \' unescaped. */
static void unquote(const char *s, char *out, size_t size)
{
    size_t j = 0;
    char quote = 0;
    for (; *s && j + 1 < size; s++) {
        if (*s == '\\' && (s[1] == '\\' || s[1] == '"' || s[1] == '\'' || (!quote && s[1] == ' '))) {
            out[j++] = *++s;
        } else if (!quote && (*s == '"' || *s == '\'')) {
            quote = *s;
        } else if (quote && *s == quote) {
            quote = 0;
        } else {
            out[j++] = *s;
        }
    }
    out[j] = 0;
}

static int read_all(HANDLE h, unsigned char *buf, DWORD len)
{
    DWORD got = 0, n;
    while (got < len) {
        if (!ReadFile(h, buf + got, len - got, &n, NULL) || n == 0)
            return 0;
        got += n;
    }
    return 1;
}

static void ask_agent(FILE *log, const char *value)
{
    static const unsigned char request[] = {0, 0, 0, 1, 11}; /* REQUEST_IDENTITIES */
    static unsigned char answer[65536];
    char path[1024];
    unsigned char len[4];
    unsigned long n, keys, i, at;
    DWORD written;
    HANDLE pipe;

    unquote(value, path, sizeof path);
    fprintf(log, "agent: %s\n", path);
    pipe = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (pipe == INVALID_HANDLE_VALUE) {
        fprintf(log, "agent: unreachable (%lu)\n", (unsigned long)GetLastError());
        return;
    }
    if (!WriteFile(pipe, request, sizeof request, &written, NULL) || !read_all(pipe, len, 4)
        || (n = be32(len)) > sizeof answer || n < 5 || !read_all(pipe, answer, n) || answer[0] != 12) {
        fprintf(log, "agent: bad answer\n");
        CloseHandle(pipe);
        return;
    }
    CloseHandle(pipe);
    keys = be32(answer + 1);
    at = 5;
    for (i = 0; i < keys && at + 4 <= n; i++) {
        at += 4 + be32(answer + at); /* the key blob */
        if (at + 4 > n)
            break;
        fprintf(log, "agent key: %.*s\n", (int)be32(answer + at), (const char *)answer + at + 4);
        at += 4 + be32(answer + at);
    }
    fprintf(log, "agent keys: %lu\n", keys);
}

int main(int argc, char **argv)
{
    const char *log_path = getenv("FAKE_SSH_LOG");
    FILE *log = log_path ? fopen(log_path, "wb") : NULL; /* "wb": no CRLF */
    const char *key = NULL, *agent = NULL;
    int i;
    if (!log)
        return 99;
    for (i = 1; i < argc; i++) {
        fprintf(log, "%s\n", argv[i]);
        if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
            key = argv[i + 1];
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc && strncmp(argv[i + 1], "IdentityAgent=", 14) == 0)
            agent = argv[i + 1] + 14;
    }
    if (key) {
        char head[40] = {0};
        FILE *f = fopen(key, "r");
        if (f && fgets(head, sizeof head, f) && strncmp(head, "-----BEGIN RSA PRIVATE KEY-----", 31) == 0)
            fprintf(log, "key: rsa\n");
        else if (strncmp(head, "ssh-rsa ", 8) == 0)
            fprintf(log, "key: public\n");
        else
            fprintf(log, "key: missing\n");
        if (f)
            fclose(f);
    }
    if (agent)
        ask_agent(log, agent);
    fclose(log);
    return 7;
}

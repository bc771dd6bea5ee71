/*
 * Replays fuzz inputs without libFuzzer: each argument is a file or a folder of files,
 * fed once to LLVMFuzzerTestOneInput. ctest runs it over the committed corpus.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (f == NULL)
        return perror(path), 1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(buf);
        return fprintf(stderr, "%s: read failed\n", path), 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int run_path(const char *path, int *count)
{
    struct stat sb;
    DIR *d;
    struct dirent *de;
    char sub[4096];
    int rc = 0;

    if (stat(path, &sb) != 0)
        return perror(path), 1;
    if (!S_ISDIR(sb.st_mode))
        return (*count)++, run_file(path);
    if ((d = opendir(path)) == NULL)
        return perror(path), 1;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        rc |= run_path(sub, count);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    int i, rc = 0, count = 0;

    /* An empty input is always worth one run. */
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    for (i = 1; i < argc; i++)
        rc |= run_path(argv[i], &count);
    printf("replayed %d inputs\n", count);
    return rc;
}

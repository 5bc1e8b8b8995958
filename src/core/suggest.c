/*
 * suggest.c - "did you mean" support: a capped edit distance (optimal
 * string alignment: Levenshtein plus adjacent transpositions) over bytes
 * and the choice of the closest candidate (see stratsim/suggest.h).
 * No allocation, no locale, thread-safe.
 */
#include <stdio.h>
#include <string.h>
#include "stratsim/suggest.h"

int ss_edit_distance(const char *a, const char *b, int cap)
{
    /* optimal string alignment distance: insertions, deletions,
     * substitutions and transpositions of adjacent bytes ("tua" -> "tau"
     * is 1), over three rows */
    size_t la = strlen(a), lb = strlen(b), i, j;
    int r0[64], r1[64], r2[64];
    int *pp = r0, *prev = r1, *cur = r2, *tmp;
    if (lb >= sizeof r0 / sizeof r0[0] || la >= 64)
        return cap + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)cap)
        return cap + 1;
    for (j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best)
                best = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < best)
                best = pp[j - 2] + 1;
            cur[j] = best;
        }
        tmp = pp;
        pp = prev;
        prev = cur;
        cur = tmp;
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *ss_suggest(const char *word, const char *const *cands, size_t n,
                       char *buf, size_t size)
{
    const char *pick = NULL;
    int best = 3;
    size_t i;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (!word || !cands)
        return buf;
    for (i = 0; n == (size_t)-1 ? cands[i] != NULL : i < n; i++) {
        int d;
        if (!cands[i])
            continue;
        d = ss_edit_distance(word, cands[i], 2);
        if (d < best) {
            best = d;
            pick = cands[i];
        }
    }
    /* else a candidate the word is the beginning of ("discount") */
    for (i = 0; !pick && strlen(word) >= 3 && (n == (size_t)-1 ? cands[i] != NULL : i < n); i++)
        if (cands[i] && strncmp(cands[i], word, strlen(word)) == 0)
            pick = cands[i];
    if (pick)
        snprintf(buf, size, " (did you mean '%s'?)", pick);
    return buf;
}

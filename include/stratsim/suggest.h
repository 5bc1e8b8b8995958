/*
 * stratsim/suggest.h - "did you mean" suggestions for misspelt keys, ids and
 * parameter paths: a capped edit distance and a helper that picks the
 * closest candidate.  Pure C, no allocation; used by the parameter-path
 * resolver (param.c) and by the Lua scenario layer.
 */
#ifndef STRATSIM_SUGGEST_H
#define STRATSIM_SUGGEST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Edit distance between a and b (optimal string alignment: insertions,
 * deletions, substitutions and transpositions of adjacent bytes each cost
 * 1), capped: any distance above `cap` (and any word of 64 bytes or more)
 * gives cap + 1.
 */
int ss_edit_distance(const char *a, const char *b, int cap);

/**
 * Write " (did you mean 'X'?)" into buf for the candidate X closest to
 * `word` within edit distance 2 (the first one on ties), else the first
 * candidate that begins with `word` (3 bytes or more), or "" if none.  `cands` holds `n` strings (NULL entries are skipped); if n is
 * (size_t)-1 the list is NULL-terminated.  Returns buf.
 */
const char *ss_suggest(const char *word, const char *const *cands, size_t n,
                       char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif

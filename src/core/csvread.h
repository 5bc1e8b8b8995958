/*
 * csvread.h - a small RFC 4180 CSV reader (the CLI and stratsim.series): reads a whole file
 * into memory and splits it into a header and rows of text cells.  It is
 * meant for the files stratsim writes (long and wide result layouts, Monte
 * Carlo summaries, tornado tables) and for calibration data files, so it
 * accepts what those contain: a UTF-8 byte-order mark, CRLF or LF line ends,
 * quoted fields (doubled quotes inside, line breaks allowed), blank lines and
 * lines whose first non-blank character is '#' (comments).  Unquoted cells
 * and header names are trimmed of spaces and tabs.  Every row must have as
 * many fields as the header; errors name the file and line.  The
 * calibration data reader (calibrate.c), which reads its files line by line
 * with limits of its own, splits each line with cli_csv_split_line().
 *
 * Ownership: cli_csv_read() returns a table the caller frees with
 * cli_csv_free(); cells and column names are borrowed from it.
 */
#ifndef SS_CORE_CSVREAD_H
#define SS_CORE_CSVREAD_H

#include <stddef.h>

typedef struct cli_csv {
    char *name;      /* file name, for messages */
    size_t ncol;     /* columns in the header */
    char **cols;     /* [ncol] header names */
    size_t nrows;    /* data rows (header, comments and blank lines excluded) */
    char **cells;    /* [nrows * ncol], row-major */
    size_t *line;    /* [nrows] line number where each row starts */
    char *buf;       /* the file's bytes; cells point into it */
} cli_csv;

/*
 * Read `path` ("-" is standard input). Returns 0, or -1 with a one-line
 * message ("FILE:LINE: ...", or "FILE: system error") in msg.
 */
int cli_csv_read(cli_csv **out, const char *path, char *msg, size_t msgsize);
/*
 * The same for text in memory: `buf` (malloc'ed, `len` bytes followed by a
 * NUL) is taken over, also on failure; `name` is used in messages.
 */
int cli_csv_parse(cli_csv **out, const char *name, char *buf, size_t len, char *msg,
                  size_t msgsize);
void cli_csv_free(cli_csv *t);

/*
 * Split one line (NUL-terminated, without its line break) in place into at
 * most `max` fields, in the looser form of calibration data: spaces and tabs
 * may stand around a quoted field (doubled quotes inside, no line breaks),
 * and unquoted fields are trimmed of all white space.  Returns the number of
 * fields, -1 for a malformed quoted field (never closed, or text after its
 * closing quote), -2 for more than `max` fields.  Fields point into `line`.
 */
int cli_csv_split_line(char *line, char **fields, size_t max);

/* Index of the column named `name` (exact match), or -1. */
int cli_csv_col(const cli_csv *t, const char *name);

/* Cell of row r, column c (c < 0 gives ""). */
const char *cli_csv_cell(const cli_csv *t, size_t r, int c);

/*
 * Parse a decimal number (C locale, as stratsim writes them; "nan", "inf"
 * accepted). Returns 0 and sets *out, or -1 for an empty or malformed cell.
 */
int cli_csv_number(const char *s, double *out);

/*
 * A text cell as written before stratsim's CSV formula guard: a leading "'"
 * followed by '=', '+', '-', '@', TAB or CR is dropped.  Borrowed.
 */
const char *cli_csv_text(const char *s);

#endif

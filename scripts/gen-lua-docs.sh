#!/bin/sh
# gen-lua-docs.sh DOC.md > lua_api_docs.h
#
# Generates the C table behind stratsim._docs (the REPL's help()) from the
# one-line reference of docs/lua-api.md ("9. One-line reference"), so that
# the help and the document cannot differ. The reference is the text between
# the lines "<!-- _docs begin -->" and "<!-- _docs end -->"; each entry is a
# list item "- `NAME` TEXT", continued on lines indented by two spaces. Any
# other line in between is an error, as are a missing section, a duplicate
# NAME and an empty TEXT.
set -eu
doc=${1:?usage: gen-lua-docs.sh docs/lua-api.md}
awk -v doc="$doc" '
# a C string literal body: backslashes and quotes escaped (no gsub: awks differ
# on backslashes in its replacement)
function esc(s,    out, i, c) {
    out = ""
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        out = out ((c == "\\" || c == "\"") ? "\\" c : c)
    }
    return out
}
function flush() {
    if (name == "") return
    if (text == "") { printf "%s:%d: `%s` has no text\n", doc, line, name > "/dev/stderr"; bad = 1 }
    if (name in seen) { printf "%s:%d: `%s` is listed twice\n", doc, line, name > "/dev/stderr"; bad = 1 }
    seen[name] = 1
    printf "    {\"%s\",\n     \"%s\"},\n", esc(name), esc(text)
    n++
    name = ""; text = ""
}
/^<!-- _docs begin -->/ { inside = 1; began = 1; next }
/^<!-- _docs end -->/ { flush(); inside = 0; ended = 1; next }
!inside { next }
/^- `[^`]+`/ {
    flush()
    line = NR
    name = $0; sub(/^- `/, "", name); sub(/`.*/, "", name)
    text = $0; sub(/^- `[^`]+` */, "", text)
    next
}
/^  +[^ ]/ && name != "" { t = $0; sub(/^ +/, "", t); text = (text == "" ? t : text " " t); next }
/^[ \t]*$/ { next }
/^#+ / { flush(); next }
{ printf "%s:%d: not an entry of the one-line reference: %s\n", doc, NR, $0 > "/dev/stderr"; bad = 1 }
BEGIN {
    print "/* Generated from docs/lua-api.md by scripts/gen-lua-docs.sh: do not edit. */"
    print "static const char *const lua_api_docs[][2] = {"
}
END {
    if (!began || !ended) { printf "%s: no <!-- _docs begin --> ... <!-- _docs end --> section\n", doc > "/dev/stderr"; exit 1 }
    print "};"
    if (bad || n == 0) exit 1
}' "$doc"

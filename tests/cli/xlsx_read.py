#!/usr/bin/env python3
"""xlsx_read.py - read the workbooks `stratsim ... -o FILE.xlsx` writes.

An .xlsx file is a zip of XML parts; this reads them with the Python
standard library only (zipfile, xml.etree), for the CLI tests
(tests/cli/test_xlsx.sh).

As a module:  wb = Workbook(path); wb.sheets (names in order);
              wb.rows(name) -> list of rows, each a list of cells (float for
              numbers, str for text, bool, None for blank);
              wb.hidden(name), wb.frozen(name) -> (rows, cols) frozen;
              wb.charts(name) -> list of chart XML texts of the sheet.
As a program: xlsx_read.py FILE [SHEET]  prints the sheet names, or the
              sheet's rows tab-separated (numbers with repr()).
"""
import posixpath
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
}
RID = "{%s}id" % NS["r"]


def col_index(ref):
    """'C12' -> 2 (0-based column)."""
    letters = re.match(r"[A-Z]+", ref).group(0)
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


class Workbook:
    def __init__(self, path):
        self.z = zipfile.ZipFile(path)
        bad = self.z.testzip()
        if bad is not None:
            raise ValueError("corrupt member %s" % bad)
        wb = ET.fromstring(self.z.read("xl/workbook.xml"))
        rels = self._rels("xl/workbook.xml")
        self.sheets, self._part, self._state = [], {}, {}
        for s in wb.find("m:sheets", NS):
            name = s.get("name")
            self.sheets.append(name)
            self._part[name] = posixpath.join("xl", rels[s.get(RID)])
            self._state[name] = s.get("state", "visible")
        self.strings = []
        if "xl/sharedStrings.xml" in self.z.namelist():
            for si in ET.fromstring(self.z.read("xl/sharedStrings.xml")):
                self.strings.append("".join(t.text or "" for t in si.iter("{%s}t" % NS["m"])))

    def _rels(self, part):
        d, base = posixpath.split(part)
        rp = posixpath.join(d, "_rels", base + ".rels")
        if rp not in self.z.namelist():
            return {}
        return {r.get("Id"): r.get("Target") for r in ET.fromstring(self.z.read(rp))}

    def hidden(self, name):
        return self._state[name] != "visible"

    def rows(self, name):
        x = ET.fromstring(self.z.read(self._part[name]))
        out = []
        for row in x.find("m:sheetData", NS):
            r = int(row.get("r")) - 1
            while len(out) <= r:
                out.append([])
            cells = out[r]
            for c in row:
                j = col_index(c.get("r"))
                while len(cells) <= j:
                    cells.append(None)
                v = c.find("m:v", NS)
                t = c.get("t")
                if t == "s":
                    cells[j] = self.strings[int(v.text)]
                elif t == "b":
                    cells[j] = v.text == "1"
                elif t == "inlineStr":
                    cells[j] = "".join(e.text or "" for e in c.iter("{%s}t" % NS["m"]))
                elif v is not None:
                    cells[j] = float(v.text)
        return out

    def frozen(self, name):
        x = ET.fromstring(self.z.read(self._part[name]))
        p = x.find("m:sheetViews/m:sheetView/m:pane", NS)
        if p is None or p.get("state") != "frozen":
            return (0, 0)
        return (int(float(p.get("ySplit", "0"))), int(float(p.get("xSplit", "0"))))

    def num_format(self, name, ref):
        """The number format code of cell `ref` ('C2') of a sheet, or None."""
        x = ET.fromstring(self.z.read(self._part[name]))
        st = ET.fromstring(self.z.read("xl/styles.xml"))
        codes = {int(f.get("numFmtId")): f.get("formatCode")
                 for f in st.iter("{%s}numFmt" % NS["m"])}
        xfs = list(st.find("m:cellXfs", NS))
        for c in x.iter("{%s}c" % NS["m"]):
            if c.get("r") == ref:
                xf = xfs[int(c.get("s", "0"))]
                return codes.get(int(xf.get("numFmtId", "0")))
        return None

    def charts(self, name):
        part = self._part[name]
        out = []
        for target in self._rels(part).values():
            if "drawing" not in target:
                continue
            dpart = posixpath.normpath(posixpath.join(posixpath.dirname(part), target))
            for t in self._rels(dpart).values():
                cpart = posixpath.normpath(posixpath.join(posixpath.dirname(dpart), t))
                out.append(self.z.read(cpart).decode("utf-8"))
        return out


def main():
    wb = Workbook(sys.argv[1])
    if len(sys.argv) < 3:
        for s in wb.sheets:
            print(s + (" (hidden)" if wb.hidden(s) else ""))
        return
    for row in wb.rows(sys.argv[2]):
        print("\t".join("" if c is None else repr(c) if isinstance(c, float) else str(c)
                        for c in row))


if __name__ == "__main__":
    main()

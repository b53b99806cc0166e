"""Build ``sim/data/world_ports.csv`` from the NGA World Port Index (Pub. 150).

The World Port Index is published by the US National Geospatial-Intelligence Agency
(https://msi.nga.mil/Publications/WPI) as ``UpdatedPub150.csv``; as a work of the US
Government it is in the public domain. This keeps, of its 100-odd columns, what naming a port
needs: the index number, the main and alternate names, the UN/LOCODE, the country, the harbour
size and the position (WGS84 degrees, as published).

    python tools/make_world_ports.py path/to/UpdatedPub150.csv

The copy used for the committed file is the one in the public repository
jordanbell2357/uscg-nais-data at commit 5b20d4f (``NGA/WPI/UpdatedPub150.csv``, 3,768 ports).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sim" / "data" / "world_ports.csv"
COLUMNS = {
    "World Port Index Number": "wpi",
    "Main Port Name": "name",
    "Alternate Port Name": "alternates",
    "UN/LOCODE": "locode",
    "Country Code": "country",
    "Harbor Size": "size",
    "Latitude": "lat",
    "Longitude": "lon",
}


def main(src: str) -> None:
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        row = {new: " ".join(r[old].split()) for old, new in COLUMNS.items()}
        row["lat"] = f"{float(row['lat']):.6f}"
        row["lon"] = f"{float(row['lon']):.6f}"
        out.append(row)
    out.sort(key=lambda r: float(r["wpi"]))
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS.values()), lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    print(f"{len(out)} ports -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])

"""Human-readable reports and the files a run writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.api import RunResult
from sim.core.config import Scenario
from sim.core.routes import RouteTable
from sim.outputs.files import write_json, write_provenance, write_table


def write_run(
    result: RunResult, out_dir: Path, *, scenario_path: str, events_format: str = "parquet"
) -> list[Path]:
    """Write the outputs of one replication into ``out_dir``; return the paths written."""
    paths = write_provenance(
        out_dir,
        result.scenario,
        scenario_path=scenario_path,
        seed=result.seed,
        command="run",
        replication=result.replication,
        routes={
            f"{leg.origin}-{leg.destination}": round(leg.distance_nm, 3)
            for leg in result.routes.unique_legs()
        },
    )
    paths.append(write_table(result.events, out_dir / f"events.{events_format}"))
    p = out_dir / "summary.json"
    write_json(p, result.summary.to_dict())
    paths.append(p)
    paths.append(write_table(result.summary.ships, out_dir / "ships.csv"))
    paths.append(write_table(result.summary.berths, out_dir / "berths.csv"))
    paths.append(write_table(result.summary.products, out_dir / "products.csv"))
    return paths


def write_geo(
    result: RunResult,
    out_dir: Path,
    *,
    draw_map: bool = True,
    with_tracks: bool = True,
    interval_h: float = 1.0,
) -> list[Path]:
    """Routes (GeoJSON), ship tracks (CSV and GeoJSON) and the map of one replication."""
    from sim.analysis.tracks import routes_geojson, tracks, write_tracks

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    p = out_dir / "routes.geojson"
    p.write_text(json.dumps(routes_geojson(result.routes, result.scenario)), encoding="utf-8")
    paths.append(p)
    tr = None
    if with_tracks:
        tr = tracks(result.events, result.scenario, result.routes, interval_h=interval_h)
        paths += write_tracks(tr, out_dir)
    if draw_map:
        from sim.outputs.maps import plot_map

        paths += plot_map(result.scenario, result.routes, out_dir / "map", tracks=tr)
    return paths


def route_table(scenario: Scenario, routes: RouteTable) -> pd.DataFrame:
    """One row per leg: length, pilotage, gates and locks passed, hours at each class's speeds.

    Hours use each class's mean laden and ballast speeds [kn].
    """
    rows = []
    term = scenario.terminal.port
    for far in sorted(scenario.discharge):
        leg = routes.leg(term, far)
        lock = scenario.discharge[far].lock if far in scenario.discharge else None
        row: dict[str, Any] = {
            "from": term,
            "to": far,
            "distance_nm": leg.distance_nm,
            "pilotage_nm": leg.pilotage_nm,
            "method": leg.method,
            "passes": ", ".join(leg.passes),
            "lock": lock.name if lock is not None else "",
        }
        for cid, cls in scenario.fleet.items():
            row[f"{cid}_laden_h"] = leg.distance_nm / cls.speed_laden_kn.mean
            row[f"{cid}_ballast_h"] = leg.distance_nm / cls.speed_ballast_kn.mean
        rows.append(row)
    return pd.DataFrame(rows)


def print_route_table(table: pd.DataFrame, scenario: Scenario, console: Console) -> None:
    """Print the legs of a scenario."""
    t = Table(
        title=f"Legs of {scenario.name} ({scenario.routing.method} routing)", title_justify="left"
    )
    for col in ("from", "to", "nm", "pilot nm", "passes", "lock"):
        t.add_column(col, justify="right" if "nm" in col else "left")
    classes = list(scenario.fleet)
    for cid in classes:
        t.add_column(f"{cid} h", justify="right")
    t.caption = "hours laden / in ballast at each class's mean speeds"
    for row in table.to_dict(orient="records"):
        t.add_row(
            str(row["from"]),
            str(row["to"]),
            f"{row['distance_nm']:,.1f}",
            f"{row['pilotage_nm']:,.1f}",
            str(row["passes"]) or "-",
            str(row["lock"]) or "-",
            *(f"{row[f'{c}_laden_h']:.1f} / {row[f'{c}_ballast_h']:.1f}" for c in classes),
        )
    console.print(t)


def _fmt(x: Any, digits: int = 0) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int | float):
        return f"{x:,.{digits}f}"
    return str(x)


def print_run_summary(result: RunResult, console: Console) -> None:
    """Print the summary of one replication."""
    sc, s = result.scenario, result.summary
    k, c = s.kpis, s.claims
    console.print(
        f"[bold]{sc.title or sc.name}[/bold]  seed {result.seed}, replication "
        f"{result.replication}, {sc.window.start} to {sc.window.end} ({sc.window.days} days), "
        f"{sc.n_ships} ships"
    )
    legs = ", ".join(
        f"{leg.origin}-{leg.destination} {leg.distance_nm:,.0f} nm"
        for leg in result.routes.unique_legs()
    )
    console.print(f"Routes ({sc.routing.method}): {legs}", highlight=False)

    t = Table(title="Claim against this replication", title_justify="left")
    t.add_column("quantity")
    t.add_column("claimed", justify="right")
    t.add_column("simulated", justify="right")
    loaded = c.get("basis") == "loaded"
    t.add_row("trips (loadings in window)", "", _fmt(k["trips"]))
    t.add_row("observed visits", _fmt(c.get("claimed_trips")), _fmt(k["observed_visits"]))
    t.add_row("barrels loaded", _fmt(c.get("claimed_bbl")) if loaded else "", _fmt(k["loaded_bbl"]))
    t.add_row(
        "barrels delivered", "" if loaded else _fmt(c.get("claimed_bbl")), _fmt(k["delivered_bbl"])
    )
    t.add_row("barrels on board at the end", "", _fmt(k["on_board_bbl"]))
    t.add_row("tonnes delivered", _fmt(c.get("claimed_t")), _fmt(k["delivered_t"]))
    t.add_row(
        "barrels per trip",
        _fmt(c.get("needed_bbl_per_claimed_trip")),
        _fmt(k["mean_parcel_bbl"]),
    )
    if "un_cap_pro_rata_bbl" in c:
        t.add_row(
            f"UN cap pro rata ({c['window_days']} d)",
            _fmt(c["un_cap_pro_rata_bbl"]),
            f"{c['vs_cap_pro_rata']:.1f}x cap ({c['basis']})" if c["vs_cap_pro_rata"] else "-",
        )
    console.print(t)
    if "claim_implied_bbl_per_t" in c:
        console.print(
            f"Claimed barrels / claimed tonnes = {c['claim_implied_bbl_per_t']:.1f} bbl/t "
            f"(density {c['claim_implied_density_t_per_m3']:.2f} t/m3): "
            + ("consistent with" if c["claim_tonnes_consistent"] else "outside")
            + " the product table's range.",
            highlight=False,
        )

    st = Table(title="Ships", title_justify="left")
    for col in ("ship", "trips", "delivered bbl", "sailing d", "in port d", "waiting d", "idle d"):
        st.add_column(col, justify="left" if col == "ship" else "right")
    for row in s.ships.itertuples(index=False):
        st.add_row(
            str(row.ship),
            _fmt(row.trips),
            _fmt(row.delivered_bbl),
            _fmt(row.sailing_days, 1),
            _fmt(row.in_port_days, 1),
            _fmt(row.waiting_days, 1),
            _fmt(row.idle_days, 1),
        )
    console.print(st)

    bt = Table(title="Berths", title_justify="left")
    for col in ("port", "berths", "calls", "utilisation", "mean wait h", "max wait h"):
        bt.add_column(col, justify="left" if col == "port" else "right")
    for row in s.berths.itertuples(index=False):
        bt.add_row(
            str(row.place),
            str(row.berths),
            str(row.calls),
            f"{row.berth_utilisation:.0%}",
            _fmt(row.mean_wait_h, 1),
            _fmt(row.max_wait_h, 1),
        )
    console.print(bt)

"""A replication of many regions, one region at a time: regions share nothing (with
``collaboration.scope: region`` a force's cases meet only its own region's units, and each
force draws from streams named for it), so each region is a simulation of its own, and
their outputs joined are the replication the whole nation would give in one simulation.
Regions can then run side by side in processes (``sim.running.runner``).

The joined output lists the forces in the configuration's order; a unit shared by a
region's forces (its pooled teams, triage hub, surge unit) is labelled with its region:
``region south_west``, ``surge south_west``.
"""

from __future__ import annotations

import numpy as np

from ..config.schema import SimConfig
from ..domain import REGION, SURGE, region_label
from ..model import ReplicationOutput, run_replication


def is_split(cfg: SimConfig) -> bool:
    """Whether ``cfg``'s forces fall into more than one region that share nothing."""
    return len(cfg.regions()) > 1


def region_order(cfg: SimConfig) -> list[int]:
    """``cfg``'s regions by number, largest first by their referrals a month at day 0 (ties in
    the configuration's order): sent to workers in this order, the longest simulations start
    first and the last to finish are short ones."""
    sizes = [sum(force.demand.referrals_per_month_at(0.0) for force in region_cfg.forces)
             for _, region_cfg in cfg.region_configs()]
    return sorted(range(len(sizes)), key=lambda k: -sizes[k])


def run_region(cfg: SimConfig, replication: int, region: int) -> ReplicationOutput:
    """Replication ``replication`` of region number ``region`` of ``cfg`` alone."""
    return run_replication(cfg.region_configs()[region][1], replication)


def run_task(task: tuple[SimConfig, int, int | None]) -> ReplicationOutput:
    """A worker's task ``(cfg, replication, region)``: that region of the replication, or
    (``region`` None) the whole replication, its regions in turn and joined. Here rather
    than beside the runner so that a worker process imports only the model, not the tables."""
    cfg, replication, region = task
    if region is not None:
        return run_region(cfg, replication, region)
    return run_regions(cfg, replication) if is_split(cfg) else run_replication(cfg, replication)


def run_regions(cfg: SimConfig, replication: int) -> ReplicationOutput:
    """Replication ``replication`` of every region of ``cfg``, one after another, joined."""
    return join_regions(cfg, [run_region(cfg, replication, k) for k in range(len(cfg.regions()))])


def _unit_owner(owner: str, region: str) -> str:
    """A unit's owner in the joined output: a region's shared units carry the region's name."""
    if owner == REGION:
        return region_label(region)
    return f"{SURGE} {region}" if owner == SURGE else owner


def join_regions(cfg: SimConfig, parts: list[ReplicationOutput]) -> ReplicationOutput:
    """The regions' outputs of one replication (in ``cfg.regions()`` order) as one output
    of the nation: cases in the forces' order, each force's code and investigating unit
    recoded, the monitor's series side by side, every unit's use kept."""
    regions = list(cfg.regions())
    names = cfg.force_names
    force_code = {name: code for code, name in enumerate(names)}
    owners = list(names)
    for region in regions:
        owners.append(_unit_owner(SURGE, region))
    owner_code = {name: code for code, name in enumerate(owners)}
    by_force: dict[int, dict[str, np.ndarray]] = {}
    for region, part in zip(regions, parts):
        local_owner = np.asarray([owner_code[name if name in force_code else _unit_owner(name, region)]
                                  for name in part.owners], dtype=np.int16)
        codes = part.cases["force"]
        for local, name in enumerate(part.force_names):
            rows = codes == local
            columns = {column: values[rows] for column, values in part.cases.items()}
            columns["force"] = np.full(int(rows.sum()), force_code[name], dtype=np.int16)
            held = columns["investigated_by"]
            columns["investigated_by"] = np.where(held < 0, held, local_owner[np.maximum(held, 0)]).astype(np.int16)
            by_force[force_code[name]] = columns
    ordered = [by_force[code] for code in range(len(names))]
    cases = {column: np.concatenate([part[column] for part in ordered]) for column in ordered[0]}
    days = parts[0].snapshot_days
    for part in parts[1:]:
        if not np.array_equal(part.snapshot_days, days):
            raise ValueError("the regions' monitors sampled different days")
    labels, pools = [], []
    for region, part in zip(regions, parts):
        labels += [(series, _unit_owner(owner, region) if series == "busy" else owner, name, grade)
                   for series, owner, name, grade in part.series_labels]
        pools += [{**row, "force": _unit_owner(row["force"], region)} if "force" in row else dict(row)
                  for row in part.pools]
    return ReplicationOutput(
        replication=parts[0].replication,
        cases=cases,
        snapshot_days=days,
        snapshots=np.concatenate([part.snapshots for part in parts], axis=1),
        series_labels=labels,
        pools=pools,
        force_names=names,
        owners=tuple(owners),
    )

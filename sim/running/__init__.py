"""Running the model: replications (serially or in processes), scenario comparisons on common
random numbers, the staffing search, the replication-count study, and resumable sweeps over
local processes or a Dask cluster."""

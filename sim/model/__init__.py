"""The SimPy model: demand, staff pools, the stage processes and their record buffers."""

from .replication import ReplicationOutput, run_replication

__all__ = ["ReplicationOutput", "run_replication"]

"""The SimPy model: demand, staff pools, the stage processes, the collaboration policy that
routes cases between units, and the record buffers."""

from .policy import CollaborationPolicy, build_policy
from .replication import ReplicationOutput, run_replication

__all__ = ["CollaborationPolicy", "ReplicationOutput", "build_policy", "run_replication"]

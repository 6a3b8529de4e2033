"""Files: run and point folders written atomically, their manifests, the folders of
comparisons, searches and replication studies, and sweep collection."""

"""Files: run folders written atomically, their manifests, and sweep collection."""

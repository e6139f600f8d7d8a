from tests.cluster_fixtures import (  # noqa: F401
    gridengine_cluster,
    gridengine_session,
    slurm_cluster,
    slurm_session,
)

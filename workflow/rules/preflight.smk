# Runs before Snakemake loads config/config.yaml (the Snakefile includes it first): a config
# whose YAML anchors and aliases expand beyond reason is refused here, since Snakemake's own
# loading and merging of config files would expand it (simsflow.config.check_yaml_size).
import sys
from pathlib import Path

# the project's folder, found from this file (workflow.basedir is the user's own folder when
# simsflow is used as a module)
sys.path.insert(0, str(Path(workflow.current_basedir).parents[1] / "workflow" / "scripts"))

from simsflow.config import check_config_files
from simsflow.errors import SimsflowError

try:
    check_config_files(["config/config.yaml", *workflow.configfiles])
except SimsflowError as err:
    sys.exit(f"simsflow: configuration error: {err}")

#!/bin/bash
# parsl_nb block {{job_name}} for Slurm, written by SlurmProvider; submitted with: sbatch {{script_path}}
#SBATCH --job-name={{job_name}}
#SBATCH --output={{stdout_path}}
#SBATCH --error={{stderr_path}}
#SBATCH --nodes={{nodes_per_block}}
#SBATCH --ntasks-per-node={{tasks_per_node}}
#SBATCH --time={{walltime}}
{{directives}}
{{scheduler_options}}

{{worker_init}}

export PARSL_NB_JOB_NAME={{job_name}}
export PARSL_NB_SCRIPT_DIR={{script_dir}}
{{command}}

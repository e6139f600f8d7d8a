#!/bin/bash
# parsl_nb block {{job_name}} for PBS Pro, written by PBSProProvider; submitted with: qsub {{script_path}}
#PBS -S /bin/bash
#PBS -N {{job_name}}
#PBS -m n
#PBS -o {{stdout_path}}
#PBS -e {{stderr_path}}
#PBS -l walltime={{walltime}}
#PBS -l select={{nodes_per_block}}:ncpus={{cpus_per_node}}{{select_options}}
{{directives}}
{{scheduler_options}}

{{worker_init}}

export PARSL_NB_JOB_NAME={{job_name}}
export PARSL_NB_SCRIPT_DIR={{script_dir}}
{{command}}

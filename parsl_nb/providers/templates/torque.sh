#!/bin/bash
# parsl_nb block {{job_name}} for Torque, written by TorqueProvider; submitted with: qsub {{script_path}}
#PBS -S /bin/bash
#PBS -N {{job_name}}
#PBS -m n
#PBS -o {{stdout_path}}
#PBS -e {{stderr_path}}
#PBS -l walltime={{walltime}}
#PBS -l nodes={{nodes_per_block}}:ppn={{tasks_per_node}}
{{directives}}
{{scheduler_options}}

{{worker_init}}

export PARSL_NB_JOB_NAME={{job_name}}
export PARSL_NB_SCRIPT_DIR={{script_dir}}
{{command}}

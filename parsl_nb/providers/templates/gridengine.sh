#!/bin/bash
# parsl_nb block {{job_name}} for Grid Engine, written by GridEngineProvider; submitted with: qsub -terse {{script_path}}
#$ -S /bin/bash
#$ -N {{job_name}}
#$ -o {{stdout_path}}
#$ -e {{stderr_path}}
#$ -cwd
#$ -l h_rt={{walltime}}
{{directives}}
{{scheduler_options}}

{{worker_init}}

export PARSL_NB_JOB_NAME={{job_name}}
export PARSL_NB_SCRIPT_DIR={{script_dir}}
{{command}}

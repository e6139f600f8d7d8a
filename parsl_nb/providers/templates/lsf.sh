#!/bin/bash
# parsl_nb block {{job_name}} for LSF, written by LSFProvider; submitted with: bsub < {{script_path}}
#BSUB -J {{job_name}}
#BSUB -o {{stdout_path}}
#BSUB -e {{stderr_path}}
#BSUB -W {{walltime}}
{{directives}}
{{scheduler_options}}

{{worker_init}}

export PARSL_NB_JOB_NAME={{job_name}}
export PARSL_NB_SCRIPT_DIR={{script_dir}}
{{command}}

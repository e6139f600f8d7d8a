#!/bin/bash
# parsl_nb block {{job_name}} for HTCondor: the executable of the .submit description next to this file
{{worker_init}}

export PARSL_NB_JOB_NAME={{job_name}}
export PARSL_NB_SCRIPT_DIR={{script_dir}}
{{command}}

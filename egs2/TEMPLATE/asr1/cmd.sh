# Job launchers, Kaldi run.pl call syntax:  ${train_cmd} JOB=1:N log/x.JOB.log command ... JOB
#   cmd_backend=local (default): parallel local jobs (utils/run_local.sh, --max_jobs_run)
#   cmd_backend=slurm          : sbatch array jobs (utils/run_slurm.sh, options in conf/slurm.conf)
# Choose with:  cmd_backend=slurm ./run.sh ...   (or edit the default below)
cmd_backend=${cmd_backend:-local}

case "${cmd_backend}" in
    local)
        export train_cmd="run_local.sh"
        export cuda_cmd="run_local.sh"
        export decode_cmd="run_local.sh"
        ;;
    slurm)
        export train_cmd="run_slurm.sh --config conf/slurm.conf"
        export cuda_cmd="run_slurm.sh --config conf/slurm.conf"
        export decode_cmd="run_slurm.sh --config conf/slurm.conf"
        ;;
    *)
        echo "cmd.sh: unknown cmd_backend='${cmd_backend}' (local|slurm)" >&2
        return 1
        ;;
esac

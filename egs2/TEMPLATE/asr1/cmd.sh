# Job launchers, Kaldi run.pl call syntax:  ${train_cmd} JOB=1:N log/x.JOB.log command ... JOB
#   cmd_backend=local (default): parallel jobs on this machine (utils/run_local.sh, --max_jobs_run)
#   cmd_backend=slurm          : one sbatch array job per call, waited for (utils/run_slurm.sh);
#                                --gpu/--mem/--time/--num_threads/--num_nodes are mapped to
#                                sbatch arguments by conf/slurm.conf (edit its partition names);
#                                each task runs in the recipe dir and sources ./path.sh there
# Choose with:  cmd_backend=slurm ./run.sh ...   (or edit the default below)
#
# Which stages use which command:
#   train_cmd  : stage 3 (format audio, nj jobs), stage 6 (collect stats, nj jobs)
#   cuda_cmd   : stage 7 (training), through espnet2.bin.launch with --ngpu N --num_nodes M:
#                one job with N GPUs, or with Slurm M nodes x N GPUs (srun, one task per node)
#   decode_cmd : stage 8 (decoding, inference_nj jobs, --gpu ngpu)
# Multi-GPU / multi-node training on Slurm:
#   cmd_backend=slurm ./run.sh --stage 7 --ngpu 4 --num_nodes 2
# cuda_cmd is called slurm.pl (a link to run_slurm.sh) on Slurm because espnet2.bin.launch
# recognises a Slurm launcher by that name and then starts the training with srun on every
# node (--dist_launcher slurm); under any other name it would use mpirun.
# Logs: log/x.N.log per task (+ log/x.N.log.done, its exit code); the batch script and
# Slurm's own output (kills, time-outs) go to log/q/. Ctrl-C cancels the Slurm job.
cmd_backend=${cmd_backend:-local}

case "${cmd_backend}" in
    local)
        export train_cmd="run_local.sh"
        export cuda_cmd="run_local.sh"
        export decode_cmd="run_local.sh"
        ;;
    slurm)
        export train_cmd="run_slurm.sh --config conf/slurm.conf"
        export cuda_cmd="slurm.pl --config conf/slurm.conf"
        export decode_cmd="run_slurm.sh --config conf/slurm.conf"
        ;;
    *)
        echo "cmd.sh: unknown cmd_backend='${cmd_backend}' (local|slurm)" >&2
        return 1
        ;;
esac

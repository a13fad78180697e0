/**
 * Parent liveness, as ipykernel's parent poller: when JPY_PARENT_PID names a process, exit once it is gone;
 * otherwise exit once this process is re-parented (its original parent died).
 */
export function watchParent(onGone: (why: string) => void, env: NodeJS.ProcessEnv = process.env, intervalMs = 1000): () => void {
  const pid = Number.parseInt(env.JPY_PARENT_PID ?? "", 10);
  const originalPpid = process.ppid;
  let check: () => string | null;
  if (Number.isInteger(pid) && pid > 0) {
    check = () => {
      try {
        process.kill(pid, 0);
        return null;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === "ESRCH" ? `parent process ${pid} is gone` : null;
      }
    };
  } else if (originalPpid > 1) {
    check = () => (process.ppid !== originalPpid ? `parent process ${originalPpid} is gone` : null);
  } else {
    return () => {};
  }
  const timer = setInterval(() => {
    const why = check();
    if (why) {
      clearInterval(timer);
      onGone(why);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Dsl.Devices.Cpu;

/// <summary>A range body run by <see cref="ForkJoin"/>: a struct, so a call site allocates nothing.</summary>
internal interface IRangeJob
{
    /// <summary>Processes items [start, end).</summary>
    void Run(int start, int end);
}

/// <summary>
/// A minimal fork-join pool for kernels that take tens of microseconds: the caller runs the first part itself,
/// persistent workers (one per extra core) run the others. Nothing is allocated per call, and a worker spins
/// briefly before it sleeps, so the back-to-back kernels of a training step find it awake. <c>Parallel.For</c>
/// allocated closures and state per call and cost several microseconds to wake the thread pool.
/// </summary>
/// <remarks>
/// One fork at a time: a call made while another runs (a nested call from inside a job, or a second thread
/// using another device) runs its whole range inline, which is correct and only slower. Jobs live on the caller's
/// stack and are reached by pointer; the caller waits for every part before returning, so the pointer stays valid.
/// </remarks>
internal static unsafe class ForkJoin
{
    /// <summary>How long a worker spins for the next job before it blocks: covers the gaps between a step's kernels.</summary>
    private static readonly long s_spinTicks = Stopwatch.Frequency / 5000; // 200 microseconds

    private static readonly Worker[] s_workers = CreateWorkers();

    /// <summary>Per part: 0 while a fork's part is open, 1 once a thread has taken it (and between forks). The caller takes the parts no worker has started, so a descheduled worker cannot stall a fork.</summary>
    private static readonly int[] s_claimed = Enumerable.Repeat(1, s_workers.Length + 1).ToArray();
    private static int s_busy;
    private static int s_generation;
    private static int s_pending;
    private static int s_parts;
    private static int s_count;
    private static void* s_job;
    private static delegate*<void*, int, int, void> s_invoke;
    private static ExceptionDispatchInfo? s_error;

    /// <summary>Bytes the workers have allocated while running parts (see <see cref="WorkerAllocatedBytes"/>).</summary>
    private static long s_workerAllocated;

    /// <summary>
    /// Bytes of managed memory the pool's worker threads have allocated while running parts, since the process started.
    /// With the calling thread's own count this is what a step of kernels allocates, without the runtime's and a test
    /// host's other threads (which <see cref="GC.GetTotalAllocatedBytes(bool)"/> also counts); the zero-allocation tests
    /// read it.
    /// </summary>
    internal static long WorkerAllocatedBytes => Interlocked.Read(ref s_workerAllocated);

    /// <summary>Forks this thread asked for with more than one part (see <see cref="SplitsOnThisThread"/>).</summary>
    [ThreadStatic] private static long t_splits;

    /// <summary>
    /// How many calls of <see cref="Run"/> on the calling thread asked for more than one part, since the thread started:
    /// the split decisions of its kernels, counted whether or not the pool was free to take them. Profiling a step
    /// (forks per step) and the tests of the split thresholds read it; per thread, so other threads' forks never count.
    /// </summary>
    internal static long SplitsOnThisThread => t_splits;

    /// <summary>How many parts a range can be split into on this machine.</summary>
    public static int MaxParts => s_workers.Length + 1;

    /// <summary>
    /// Runs <paramref name="job"/> over [0, <paramref name="count"/>) in at most <paramref name="parts"/> contiguous
    /// parts (item boundaries at count*i/parts); inline when one part, and part by part on this thread (same boundaries)
    /// when another fork is in flight.
    /// <paramref name="job"/> must be a local of the caller (it is reached by address).
    /// </summary>
    public static void Run<T>(int count, int parts, ref T job) where T : struct, IRangeJob
    {
        parts = Math.Min(Math.Min(parts, count), MaxParts);
        if (parts <= 1)
        {
            if (count > 0)
            {
                job.Run(0, count);
            }
            return;
        }
        t_splits++;
        if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            // Another fork is in flight: run the parts here, one after the other, with the same boundaries the workers
            // would have had, so a job that reduces per part (a weight gradient) sums in the same order either way.
            for (int p = 0; p < parts; p++)
            {
                job.Run((int)((long)count * p / parts), (int)((long)count * (p + 1) / parts));
            }
            return;
        }
        try
        {
            s_job = Unsafe.AsPointer(ref job);
            s_invoke = &Invoke<T>;
            s_count = count;
            s_parts = parts;
            s_error = null;
            Volatile.Write(ref s_pending, parts - 1);
            for (int p = 1; p < parts; p++)
            {
                // Released after the fields above: a worker that wins a claim sees this fork's job.
                Interlocked.Exchange(ref s_claimed[p], 0);
            }
            Interlocked.Increment(ref s_generation);
            for (int w = 0; w < parts - 1; w++)
            {
                s_workers[w].Wake();
            }
            Exception? mine = null;
            try
            {
                job.Run(0, (int)((long)count / parts));
            }
            catch (Exception e)
            {
                mine = e;
            }
            for (int p = 1; p < parts; p++)
            {
                // A part whose worker has not woken yet (asleep, or preempted on a busy machine) runs here.
                if (Interlocked.Exchange(ref s_claimed[p], 1) == 0)
                {
                    RunPart(p);
                }
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref s_pending) != 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            if (mine is not null)
            {
                ExceptionDispatchInfo.Throw(mine);
            }
            s_error?.Throw();
        }
        finally
        {
            s_job = null;
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary>
    /// How many parts to split <paramref name="count"/> items into so that each has at least <paramref name="minItems"/>,
    /// capped by <paramref name="threads"/>.
    /// </summary>
    public static int Parts(int count, int minItems, int threads) => Math.Clamp(count / Math.Max(1, minItems), 1, Math.Max(1, threads));

    /// <summary>
    /// Runs part <paramref name="part"/> of the current fork, records its exception, and counts it done; a worker
    /// (<paramref name="worker"/>) also adds what it allocated to <see cref="WorkerAllocatedBytes"/> before the fork can end.
    /// </summary>
    private static void RunPart(int part, bool worker = false)
    {
        long allocated = worker ? GC.GetAllocatedBytesForCurrentThread() : 0;
        int parts = s_parts, count = s_count;
        int start = (int)((long)count * part / parts);
        int end = (int)((long)count * (part + 1) / parts);
        try
        {
            s_invoke(s_job, start, end);
        }
        catch (Exception e)
        {
            s_error = ExceptionDispatchInfo.Capture(e);
        }
        if (worker)
        {
            Interlocked.Add(ref s_workerAllocated, GC.GetAllocatedBytesForCurrentThread() - allocated);
        }
        Interlocked.Decrement(ref s_pending);
    }

    private static void Invoke<T>(void* job, int start, int end) where T : struct, IRangeJob => Unsafe.AsRef<T>(job).Run(start, end);

    private static Worker[] CreateWorkers()
    {
        var workers = new Worker[Math.Max(0, Environment.ProcessorCount - 1)];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = new Worker(i + 1);
        }
        return workers;
    }

    private sealed class Worker
    {
        private readonly int _part;
        private readonly ManualResetEventSlim _wake = new(false);
        private int _sleeping;

        public Worker(int part)
        {
            _part = part;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Dsl CPU worker {part}" };
            thread.Start();
        }

        public void Wake()
        {
            if (Volatile.Read(ref _sleeping) == 1)
            {
                _wake.Set();
            }
        }

        private void Loop()
        {
            int seen = 0; // generation 0 is "no job yet": a worker that starts after the first fork still runs it
            while (true)
            {
                long since = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref s_generation) == seen)
                {
                    if (Stopwatch.GetTimestamp() - since < s_spinTicks)
                    {
                        Thread.SpinWait(20);
                        continue;
                    }
                    _wake.Reset();
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (Volatile.Read(ref s_generation) == seen)
                    {
                        _wake.Wait();
                    }
                    Interlocked.Exchange(ref _sleeping, 0);
                    since = Stopwatch.GetTimestamp();
                }
                seen = Volatile.Read(ref s_generation);
                // Claims of a finished fork stay set until the next fork publishes its job, so a late
                // worker either wins a part of the current fork or finds it taken and goes back to waiting.
                if (Interlocked.Exchange(ref s_claimed[_part], 1) == 0)
                {
                    RunPart(_part, worker: true);
                }
            }
        }
    }
}

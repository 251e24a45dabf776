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
/// A minimal fork-join pool for kernels that take tens of microseconds: the caller and persistent workers (one per extra
/// core) claim the parts of a range one at a time. Nothing is allocated per call, and a worker spins briefly before it
/// sleeps, so the back-to-back kernels of a training step find it awake. <c>Parallel.For</c> allocated closures and
/// state per call and cost several microseconds to wake the thread pool.
/// </summary>
/// <remarks>
/// A part is a contiguous range of items with boundaries at count*i/parts, whichever thread runs it. <see cref="Run"/>
/// makes at most one part per thread, so a job that reduces per part (scratch indexed by part) sums in the same order
/// on any machine; <see cref="RunBalanced"/> chooses the threads from the items per part and may make up to
/// <see cref="BalancedPartsPerThread"/> parts per thread, for jobs whose results do not depend on the split. In both, any
/// thread claims any part, so a worker that wakes late or is descheduled leaves its part to the caller instead of
/// stalling the join.
/// One fork at a time: a call made while another runs (a nested call from inside a job, or a second thread using
/// another device) runs its parts inline, in order, which is correct and only slower. Jobs live on the caller's stack
/// and are reached by pointer; the caller waits for every part before returning, so the pointer stays valid.
/// </remarks>
internal static unsafe class ForkJoin
{
    /// <summary>How long a worker spins for the next job before it blocks: covers the gaps between a step's kernels.</summary>
    private static readonly long s_spinTicks = Stopwatch.Frequency / 5000; // 200 microseconds

    /// <summary>
    /// How long the caller waits for the last parts of a fork with pause instructions alone before it yields its core
    /// between checks. A yield is a system call, dear on a virtual machine, while the wait at a join is usually a few
    /// microseconds; yielding after ~1 microsecond (what <see cref="SpinWait"/> does) cost a quarter of the second
    /// thread's time in ResNet-20's evaluation.
    /// </summary>
    private static readonly long s_joinSpinTicks = Stopwatch.Frequency / 10000; // 100 microseconds

    /// <summary>
    /// Parts per thread of a <see cref="RunBalanced"/> fork, at most. More parts let a late thread leave less behind, but
    /// measured side by side (<c>bench train mnist-net --threads 2</c>, batch 64, alternating builds) 4 or 2 parts a thread
    /// cost MnistNet's two-thread evaluation 23-30% (121k samples/s with 1 against 89-94k) and its training 5-15%, while
    /// ResNet-20's two-thread evaluation showed no difference beyond noise (<c>bench onnx resnet20</c>). So one part a
    /// thread; the caller still takes a part its worker has not started.
    /// </summary>
    internal const int BalancedPartsPerThread = 1;

    private static readonly Worker[] s_workers = CreateWorkers();

    /// <summary>
    /// The current fork's parts are claimed from this ticket: the high 32 bits hold the fork's part count, the low 32 the
    /// next part to hand out. One atomic increment both claims a part and says which fork it belongs to, so a worker that
    /// wakes late cannot run a part of a finished fork, nor one of a later fork it did not claim there. Between forks every
    /// part has been handed out (low &gt;= high).
    /// </summary>
    private static long s_ticket;
    private static int s_busy;
    private static int s_generation;
    private static int s_pending;
    private static int s_count;
    private static int s_threads;
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
    /// How many calls of <see cref="Run"/> or <see cref="RunBalanced"/> on the calling thread asked for more than one
    /// part, since the thread started: the split decisions of its kernels, counted whether or not the pool was free to
    /// take them. Profiling a step (forks per step) and the tests of the split thresholds read it; per thread, so other
    /// threads' forks never count.
    /// </summary>
    internal static long SplitsOnThisThread => t_splits;

    /// <summary>How many parts a range can be split into on this machine.</summary>
    public static int MaxParts => s_workers.Length + 1;

    /// <summary>
    /// Runs <paramref name="job"/> over [0, <paramref name="count"/>) in at most <paramref name="parts"/> contiguous
    /// parts (item boundaries at count*i/parts, at most one per thread); inline when one part, and part by part on this
    /// thread (same boundaries) when another fork is in flight.
    /// <paramref name="job"/> must be a local of the caller (it is reached by address).
    /// </summary>
    public static void Run<T>(int count, int parts, ref T job) where T : struct, IRangeJob
    {
        parts = Math.Min(Math.Min(parts, count), MaxParts);
        Fork(count, parts, parts, ref job);
    }

    /// <summary>
    /// Runs <paramref name="job"/> over [0, <paramref name="count"/>) on as many threads as <see cref="Parts"/> gives for
    /// parts of at least <paramref name="minItems"/> (at most <paramref name="threads"/>), in up to
    /// <see cref="BalancedPartsPerThread"/> parts per thread (a multiple of the threads, each of at least
    /// <paramref name="minItems"/>) that the threads claim as they come free. Only for jobs whose results do not depend on
    /// the part boundaries (element-wise and per-sample or per-tile work): how many parts there are depends on the threads.
    /// <paramref name="job"/> must be a local of the caller.
    /// </summary>
    public static void RunBalanced<T>(int count, int minItems, int threads, ref T job) where T : struct, IRangeJob
    {
        Fork(count, BalancedParts(count, minItems, threads, out int used), used, ref job);
    }

    /// <summary>The parts of a <see cref="RunBalanced"/> fork, and in <paramref name="used"/> the threads that share them.</summary>
    internal static int BalancedParts(int count, int minItems, int threads, out int used)
    {
        minItems = Math.Max(1, minItems);
        used = Parts(count, minItems, Math.Min(threads, MaxParts));
        if (used <= 1)
        {
            return 1;
        }
        long perThread = Math.Clamp(count / ((long)minItems * used), 1, BalancedPartsPerThread);
        return used * (int)perThread;
    }

    /// <summary>
    /// How many parts to split <paramref name="count"/> items into so that each has at least <paramref name="minItems"/>,
    /// capped by <paramref name="threads"/>.
    /// </summary>
    public static int Parts(int count, int minItems, int threads) => Math.Clamp(count / Math.Max(1, minItems), 1, Math.Max(1, threads));

    /// <summary>Runs <paramref name="parts"/> parts of [0, <paramref name="count"/>) on up to <paramref name="threads"/> threads, this one included.</summary>
    private static void Fork<T>(int count, int parts, int threads, ref T job) where T : struct, IRangeJob
    {
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
            s_threads = threads;
            s_error = null;
            Volatile.Write(ref s_pending, parts);
            // Published after the fields above: a thread that claims a part of this ticket sees this fork's job.
            Interlocked.Exchange(ref s_ticket, (long)parts << 32);
            Interlocked.Increment(ref s_generation);
            for (int w = 0; w < threads - 1; w++)
            {
                s_workers[w].Wake();
            }
            // The caller claims parts like any worker: those no worker has started (asleep, or preempted on a busy
            // machine) run here.
            RunParts(worker: false);
            if (Volatile.Read(ref s_pending) != 0)
            {
                long since = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref s_pending) != 0)
                {
                    if (Stopwatch.GetTimestamp() - since < s_joinSpinTicks)
                    {
                        Thread.SpinWait(8);
                    }
                    else
                    {
                        Thread.Yield();
                    }
                }
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
    /// Claims and runs parts of the current fork until none is left, recording the first exception and counting each part
    /// done; a worker (<paramref name="worker"/>) also adds what it allocated to <see cref="WorkerAllocatedBytes"/> before
    /// the fork can end.
    /// </summary>
    private static void RunParts(bool worker)
    {
        while (true)
        {
            long ticket = Interlocked.Increment(ref s_ticket) - 1;
            int part = (int)ticket, parts = (int)(ticket >> 32);
            if (part >= parts)
            {
                return;
            }
            // The fork cannot end before this part is counted done, so its fields stay as they were when it was claimed.
            long allocated = worker ? GC.GetAllocatedBytesForCurrentThread() : 0;
            int count = s_count;
            int start = (int)((long)count * part / parts);
            int end = (int)((long)count * (part + 1) / parts);
            try
            {
                s_invoke(s_job, start, end);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref s_error, ExceptionDispatchInfo.Capture(e), null);
            }
            if (worker)
            {
                Interlocked.Add(ref s_workerAllocated, GC.GetAllocatedBytesForCurrentThread() - allocated);
            }
            Interlocked.Decrement(ref s_pending);
        }
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
        /// <summary>This worker's thread number: the caller is 0, so it joins forks that ask for more than this many threads.</summary>
        private readonly int _index;
        // No spinning inside the event: the worker has just spun for s_spinTicks.
        private readonly ManualResetEventSlim _wake = new(false, 0);
        private int _sleeping;

        public Worker(int index)
        {
            _index = index;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Dsl CPU worker {index}" };
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
            int seen = 0; // generation 0 is "no job yet": a worker that starts after the first fork still looks at it
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
                // A late worker finds the parts of a finished fork all handed out (the ticket says so) and goes back to
                // waiting; one that a fork asked for fewer threads than it leaves the parts to the others.
                if (_index < Volatile.Read(ref s_threads))
                {
                    RunParts(worker: true);
                }
            }
        }
    }
}

using Dsl.Devices.Cpu;
using Xunit;

namespace Dsl.Tests.Kernels;

// The fork-join pool that CPU kernels split work with: every index of a range is processed exactly once whatever the
// split (also when the caller takes over a part its worker has not started), an exception in any part reaches the caller, and a fork from inside a fork runs inline instead of deadlocking.
public class ForkJoinTests
{
    /// <summary>Counts each index it runs (shared with <see cref="BalancedForkTests"/>).</summary>
    internal struct CountJob : IRangeJob
    {
        public int[] Hits;

        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                Interlocked.Increment(ref Hits[i]);
            }
        }
    }

    /// <summary>Throws in the part that holds <see cref="ThrowAt"/>.</summary>
    internal struct ThrowJob : IRangeJob
    {
        public int ThrowAt;

        public readonly void Run(int start, int end)
        {
            if (ThrowAt >= start && ThrowAt < end)
            {
                throw new InvalidOperationException($"item {ThrowAt}");
            }
        }
    }

    /// <summary>Forks again from inside a part: a plain fork of 2 parts, or a balanced one when <see cref="Balanced"/>.</summary>
    internal struct NestedJob : IRangeJob
    {
        public int[] Hits;
        public bool Balanced;

        public readonly void Run(int start, int end)
        {
            var inner = new CountJob { Hits = Hits };
            if (Balanced)
            {
                ForkJoin.RunBalanced(end - start, 1, 2, ref inner);
            }
            else
            {
                ForkJoin.Run(end - start, 2, ref inner);
            }
        }
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(7, 2)]
    [InlineData(1000, 2)]
    [InlineData(1000, 1)]
    [InlineData(5, 16)]
    public void Run_processes_every_index_exactly_once(int count, int parts)
    {
        for (int repeat = 0; repeat < 50; repeat++)
        {
            var job = new CountJob { Hits = new int[count] };
            ForkJoin.Run(count, parts, ref job);
            Assert.All(job.Hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void Parts_taken_over_from_a_late_worker_still_run_exactly_once()
    {
        // After a pause the worker is asleep and the caller usually takes its part; back to back, the spinning worker
        // and the caller race for it. Either way each index must be processed once per fork.
        for (int round = 0; round < 20; round++)
        {
            Thread.Sleep(1);
            var job = new CountJob { Hits = new int[64] };
            ForkJoin.Run(64, 2, ref job);
            Assert.All(job.Hits, h => Assert.Equal(1, h));
        }
        var hits = new int[2];
        for (int repeat = 0; repeat < 20000; repeat++)
        {
            var job = new CountJob { Hits = hits };
            ForkJoin.Run(2, 2, ref job);
        }
        Assert.All(hits, h => Assert.Equal(20000, h));
    }

    [Fact]
    public void Exception_in_the_last_part_reaches_the_caller()
    {
        // The last item belongs to the last part, which a worker runs when the machine has more than one core.
        var job = new ThrowJob { ThrowAt = 99 };
        var e = Assert.Throws<InvalidOperationException>(() => ForkJoin.Run(100, 2, ref job));
        Assert.Equal("item 99", e.Message);

        // The pool still works afterwards.
        var count = new CountJob { Hits = new int[100] };
        ForkJoin.Run(100, 2, ref count);
        Assert.All(count.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Nested_fork_runs_inline()
    {
        // Each outer part counts [0, its length) of the shared array once, so index 0 is hit once per outer part.
        var job = new NestedJob { Hits = new int[20] };
        ForkJoin.Run(20, 2, ref job);
        int outerParts = Math.Min(2, ForkJoin.MaxParts);
        Assert.Equal(outerParts, job.Hits[0]);
        Assert.Equal(20, job.Hits.Sum());
    }

    private struct RangeRecorder : IRangeJob
    {
        public System.Collections.Concurrent.ConcurrentBag<(int Start, int End)> Ranges;

        public readonly void Run(int start, int end) => Ranges.Add((start, end));
    }

    private struct BusyOuterJob : IRangeJob
    {
        public System.Collections.Concurrent.ConcurrentBag<(int Start, int End)> Ranges;

        public readonly void Run(int start, int end)
        {
            if (start == 0)
            {
                var inner = new RangeRecorder { Ranges = Ranges };
                ForkJoin.Run(7, 2, ref inner);
            }
        }
    }

    [Fact]
    public void A_fork_run_on_one_thread_keeps_the_part_boundaries()
    {
        // Inside another fork the pool is busy, so the inner fork runs on the calling thread; its job must still see the
        // parts the workers would have taken ([0,3) and [3,7)), so per-part reductions sum in the same order.
        var ranges = new System.Collections.Concurrent.ConcurrentBag<(int Start, int End)>();
        var outer = new BusyOuterJob { Ranges = ranges };
        ForkJoin.Run(2, 2, ref outer);
        var expected = ForkJoin.MaxParts >= 2 ? new[] { (0, 3), (3, 7) } : new[] { (0, 7) };
        Assert.Equal(expected, ranges.OrderBy(r => r.Start).ToArray());
    }
}

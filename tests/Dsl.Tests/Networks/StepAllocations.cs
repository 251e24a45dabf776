using Dsl.Devices.Cpu;

namespace Dsl.Tests.Networks;

/// <summary>
/// Managed bytes allocated so far on the threads a CPU training step runs on: the calling thread and the CPU fork pool's
/// workers (<see cref="ForkJoin.WorkerAllocatedBytes"/>). Unlike <see cref="GC.GetTotalAllocatedBytes(bool)"/> it leaves
/// out the runtime's and the test host's own threads, so a steady-state step can be held to exactly zero.
/// </summary>
internal static class StepAllocations
{
    public static long Now() => GC.GetAllocatedBytesForCurrentThread() + ForkJoin.WorkerAllocatedBytes;

    /// <summary>
    /// Bytes of one result handle: what a public <c>Forward</c> allocates per output (a fresh, stamped <see cref="Tensor"/>
    /// over the reused buffer, so a stale result cannot be read), and a loader per batch tensor. A user's own steady-state
    /// step allocates exactly these handles; measured here on one handle rather than assumed.
    /// </summary>
    public static long HandleBytes { get; } = MeasureHandle();

    private static long MeasureHandle()
    {
        var owner = new BufferVersion("a probe", "the next probe");
        var buffer = Tensor.From(new float[4], 2, 2);
        GC.KeepAlive(buffer.Stamped(owner));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var handle = buffer.Stamped(owner);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(handle);
        return bytes;
    }
}

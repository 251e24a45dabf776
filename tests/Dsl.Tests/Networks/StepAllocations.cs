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
}

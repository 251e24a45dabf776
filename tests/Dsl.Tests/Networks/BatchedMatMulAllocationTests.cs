using Dsl.Tests.Gradients;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// <see cref="Device.BatchedMatMul"/> runs inside training steps (attention's reference kernels call it several times a
/// step), so after warm-up it allocates nothing: no view per batch entry, no shape arrays on the checked path. Counted
/// on the threads the products run on (<see cref="StepAllocations"/>: the calling thread and the CPU pool's workers), in
/// the steady-state collection, alone; the whole-process count also saw other threads (77 KB once in a full run).
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class BatchedMatMulAllocationTests
{
    [Theory]
    [InlineData(false, false, new[] { 16, 7, 5 }, new[] { 16, 5, 9 }, new[] { 16, 7, 9 })]
    [InlineData(false, true, new[] { 16, 7, 5 }, new[] { 16, 9, 5 }, new[] { 16, 7, 9 })]
    [InlineData(true, false, new[] { 2, 1, 5, 7 }, new[] { 3, 5, 9 }, new[] { 2, 3, 7, 9 })]
    public void Batched_products_allocate_nothing_after_warm_up(bool transA, bool transB, int[] shapeA, int[] shapeB, int[] shapeC)
    {
        var rng = new Random(3);
        var a = Tensor.From(RandomInputs.Normal(rng, shapeA.Aggregate(1, (x, y) => x * y)), Device.Cpu, shapeA);
        var b = Tensor.From(RandomInputs.Normal(rng, shapeB.Aggregate(1, (x, y) => x * y)), Device.Cpu, shapeB);
        var c = Tensor.Zeros(Device.Cpu, shapeC);
        for (int i = 0; i < 50; i++)
        {
            Device.Cpu.BatchedMatMul(transA, transB, a, b, c);
        }
        long before = StepAllocations.Now();
        for (int i = 0; i < 20; i++)
        {
            Device.Cpu.BatchedMatMul(transA, transB, a, b, c);
        }
        long bytes = StepAllocations.Now() - before;
        Assert.True(bytes == 0, $"20 batched products allocated {bytes} bytes after warm-up.");
    }
}

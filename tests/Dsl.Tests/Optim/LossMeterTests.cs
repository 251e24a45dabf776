using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Optim;

/// <summary>The device-side loss sum gives the mean of the batch losses read one by one, on both devices.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public class LossMeterTests
{
    private readonly IlgpuCpuAcceleratorFixture _accelerator;

    public LossMeterTests(IlgpuCpuAcceleratorFixture accelerator) => _accelerator = accelerator;

    public static TheoryData<bool> Devices => new() { false, true };

    [Theory]
    [MemberData(nameof(Devices))]
    public void Mean_of_accumulated_losses_equals_the_mean_of_their_values(bool accelerator)
    {
        var device = accelerator ? _accelerator.Device : Device.Cpu;
        var meter = new LossMeter(device);
        var rng = new Random(3);
        var values = new List<float>();
        for (int batch = 0; batch < 4; batch++)
        {
            var logits = Tensor.From(Enumerable.Range(0, 6).Select(_ => (float)rng.NextDouble() * 4 - 2).ToArray(), device, 2, 3);
            var labels = Tensor.From(new long[] { batch % 3, (batch + 1) % 3 }, device, 2);
            var loss = Loss.CrossEntropy(logits, labels);
            meter.Add(loss);
            values.Add(loss.Value);
        }
        Assert.Equal(4, meter.Count);
        Assert.Equal(values.Average(), meter.TakeMean(), 5);
        Assert.Equal(0, meter.Count);
        Assert.Throws<InvalidOperationException>(() => meter.TakeMean());
    }

    [Fact]
    public void Bad_label_flagged_on_the_accelerator_is_reported_when_the_mean_is_read()
    {
        var device = _accelerator.Device;
        var meter = new LossMeter(device);
        var logits = Tensor.From(new float[] { 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f }, device, 2, 3);
        meter.Add(Loss.Nll(logits, Tensor.From(new long[] { 0, 7 }, device, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => meter.TakeMean());
    }
}

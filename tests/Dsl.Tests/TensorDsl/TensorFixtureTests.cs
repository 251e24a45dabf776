using Dsl.Tests.Fixtures;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.TensorDsl;

/// <summary>
/// MatMul's broadcasting cases and softmax over a dimension against PyTorch 1.13 through the generated
/// <see cref="TensorFixtureNet"/> (Fixtures/tensor_dsl.json): output and every input's gradient; on the CPU here, on
/// ILGPU's CPU accelerator below.
/// </summary>
public class TensorFixtureTests
{
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [InlineData("batch_two")]
    [InlineData("batch_three")]
    public void Generated_network_reproduces_pytorch_outputs_and_gradients(string name)
    {
        var c = FixtureFile.Load("tensor_dsl.json").Case(name);
        var net = new TensorFixtureNet(Target) { ComputeInputGradient = true };
        var output = net.Forward(c.Input("a").ToTensor(Target), c.Input("b").ToTensor(Target), c.Input("v").ToTensor(Target), c.Input("m").ToTensor(Target));
        Tolerance.Reduction.AssertClose(c.Expected("out").Data, output.ToArray(), "out");
        net.Backward(c.Input("dy").ToTensor(Target));
        string[] inputs = ["a", "b", "v", "m"];
        for (int k = 0; k < inputs.Length; k++)
        {
            Tolerance.Reduction.AssertClose(c.Expected(inputs[k] + ".grad").Data, net.InputGradients[k]!.ToArray(), inputs[k] + ".grad");
        }
    }
}

/// <summary>The same fixtures on ILGPU's CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuTensorFixtureTests(IlgpuCpuAcceleratorFixture fixture) : TensorFixtureTests
{
    protected override Device Target => fixture.Device;
}

using Dsl.Tests.Fixtures;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Recurrent;

/// <summary>
/// Whole generated recurrent networks (Fixture*Net: a mask, batch-first initial states, Outputs(y, y | Last)) against
/// nn.RNN/LSTM/GRU over <c>pack_padded_sequence</c> (recurrent_nets.json): the padded outputs, the last state, and the
/// gradients of sum(y*dy) + sum(last*dlast) for every parameter under its PyTorch name, the input and the initial states.
/// </summary>
public class RecurrentNetworkFixtureTests
{
    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in FixtureFile.Load("recurrent_nets.json").Cases)
        {
            data.Add(c.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_network_matches_pytorch_packed_sequences(string name)
    {
        var c = FixtureFile.Load("recurrent_nets.json").Case(name);
        bool lstm = c.String("kind") == "lstm";
        var (net, forward, backward) = Create(c.String("network"));
        string prefix = net.Parameters[0].Name.Split('.')[0] + ".";
        Assert.Equal(c.String("kind") switch { "lstm" => "lstm1.", "gru" => "gru1.", _ => "rnn1." }, prefix);
        foreach (var p in net.Parameters)
        {
            Target.Upload(c.Input(p.Name.Substring(prefix.Length)).Data, p.Value);
        }
        var inputs = new List<Tensor> { c.Input("x").ToTensor(Target), c.Input("mask").ToTensor(Target), c.Input("h0").ToTensor(Target) };
        if (lstm)
        {
            inputs.Add(c.Input("c0").ToTensor(Target));
        }
        net.ComputeInputGradient = true;
        net.ZeroGrad();
        var (y, last) = forward(inputs.ToArray());
        var tol = Tolerance.Reduction;
        tol.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
        tol.AssertClose(c.Expected("last").Data, last.ToArray(), $"{c} last");
        backward(c.Input("dy").ToTensor(Target), c.Input("dlast").ToTensor(Target));
        foreach (var p in net.Parameters)
        {
            tol.AssertClose(c.Expected(p.Name.Substring(prefix.Length) + ".grad").Data, p.Grad.ToArray(), $"{c} {p.Name}.grad");
        }
        tol.AssertClose(c.Expected("x.grad").Data, net.InputGradients[0]!.ToArray(), $"{c} x.grad");
        Assert.Null(net.InputGradients[1]);
        tol.AssertClose(c.Expected("h0.grad").Data, net.InputGradients[2]!.ToArray(), $"{c} h0.grad");
        if (lstm)
        {
            tol.AssertClose(c.Expected("c0.grad").Data, net.InputGradients[3]!.ToArray(), $"{c} c0.grad");
        }
    }

    private (Module Net, Func<Tensor[], (Tensor Y, Tensor Last)> Forward, Action<Tensor, Tensor> Backward) Create(string network)
    {
        switch (network)
        {
            case nameof(FixtureRnnNet):
            {
                var net = new FixtureRnnNet(Target);
                return (net, i => net.ForwardAll(i[0], i[1], i[2]), (a, b) => net.Backward(a, b));
            }
            case nameof(FixtureRnnReluNet):
            {
                var net = new FixtureRnnReluNet(Target);
                return (net, i => net.ForwardAll(i[0], i[1], i[2]), (a, b) => net.Backward(a, b));
            }
            case nameof(FixtureLstmNet):
            {
                var net = new FixtureLstmNet(Target);
                return (net, i => net.ForwardAll(i[0], i[1], i[2], i[3]), (a, b) => net.Backward(a, b));
            }
            case nameof(FixtureLstmStackNet):
            {
                var net = new FixtureLstmStackNet(Target);
                return (net, i => net.ForwardAll(i[0], i[1], i[2], i[3]), (a, b) => net.Backward(a, b));
            }
            case nameof(FixtureGruStackNet):
            {
                var net = new FixtureGruStackNet(Target);
                return (net, i => net.ForwardAll(i[0], i[1], i[2]), (a, b) => net.Backward(a, b));
            }
            case nameof(FixtureGruBiNet):
            {
                var net = new FixtureGruBiNet(Target);
                return (net, i => net.ForwardAll(i[0], i[1], i[2]), (a, b) => net.Backward(a, b));
            }
            default:
                throw new InvalidDataException($"recurrent_nets.json names an unknown network {network}.");
        }
    }
}

/// <summary>The same generated networks on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuRecurrentNetworkFixtureTests(IlgpuCpuAcceleratorFixture fixture) : RecurrentNetworkFixtureTests
{
    protected override Device Target => fixture.Device;
}

using Dsl.Tests.Fixtures;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Sequence;

/// <summary>
/// PyTorch's <c>nn.RNN</c>/<c>nn.LSTM</c>/<c>nn.GRU</c> (rnn.json, lstm.json, gru.json: bidirectional, one and two layers,
/// packed sequences with initial states) rebuilt from one layer-direction per call, the way generated code composes
/// them: each direction writes its half of [N,T,2H], the next layer reads all of it, and backward runs the layers in
/// reverse with both directions adding into the same dx.
/// </summary>
public class RecurrentFixtureTests
{
    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string file in new[] { "rnn.json", "lstm.json", "gru.json" })
        {
            foreach (var c in FixtureFile.Load(file).Cases)
            {
                data.Add(file, c.Name);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Composed_layer_directions_match_pytorch_forward_and_backward(string file, string name)
    {
        var c = FixtureFile.Load(file).Case(name);
        var kind = c.String("kind") switch
        {
            "tanh" => RecurrentKind.RnnTanh,
            "relu" => RecurrentKind.RnnRelu,
            "lstm" => RecurrentKind.Lstm,
            "gru" => RecurrentKind.Gru,
            var k => throw new InvalidDataException($"{c}: unknown kind {k}."),
        };
        bool lstm = kind == RecurrentKind.Lstm;
        int n = c.Int("batch"), t = c.Int("time"), d = c.Int("input"), h = c.Int("hidden"), layers = c.Int("layers");
        int dirs = c.Bool("bidirectional") ? 2 : 1;
        var lengths = c.Input("lengths").ToTensor(Target);
        Tensor Param(string p) => c.Input(p).ToTensor(Target);
        Tensor State(string input, int index) => Tensor.From(c.Input(input).Row(index), Target, n, h);

        var inputs = new Tensor[layers + 1];
        inputs[0] = c.Input("x").ToTensor(Target);
        var geometry = new RecurrentGeometry[layers, dirs];
        var ws = new Tensor[layers, dirs];
        var hLast = new Tensor[layers * dirs];
        var cLast = new Tensor?[layers * dirs];
        for (int l = 0; l < layers; l++)
        {
            int width = l == 0 ? d : dirs * h;
            inputs[l + 1] = Tensor.Full(Target, float.NaN, n, t, dirs * h);
            for (int dir = 0; dir < dirs; dir++)
            {
                string s = $"l{l}{(dir == 1 ? "_reverse" : "")}";
                var g = geometry[l, dir] = new RecurrentGeometry(kind, n, t, width, h, dir == 1, dirs * h, dir * h);
                ws[l, dir] = Tensor.Full(Target, float.NaN, (int)RecurrentWorkspace.Size(g));
                int at = l * dirs + dir;
                hLast[at] = Tensor.Full(Target, float.NaN, n, h);
                cLast[at] = lstm ? Tensor.Full(Target, float.NaN, n, h) : null;
                Target.RecurrentForward(g, inputs[l], lengths, Param("weight_ih_" + s), Param("weight_hh_" + s), Param("bias_ih_" + s), Param("bias_hh_" + s),
                    State("h0", at), lstm ? State("c0", at) : null, inputs[l + 1], hLast[at], cLast[at], ws[l, dir]);
            }
        }
        var tol = Tolerance.Reduction;
        tol.AssertClose(c.Expected("y").Data, inputs[layers].ToArray(), $"{c} y");
        for (int at = 0; at < layers * dirs; at++)
        {
            tol.AssertClose(c.Expected("h_n").Row(at), hLast[at].ToArray(), $"{c} h_n[{at}]");
            if (lstm)
            {
                tol.AssertClose(c.Expected("c_n").Row(at), cLast[at]!.ToArray(), $"{c} c_n[{at}]");
            }
        }

        Tensor dOut = c.Input("dy").ToTensor(Target);
        for (int l = layers - 1; l >= 0; l--)
        {
            var dIn = Tensor.Full(Target, float.NaN, inputs[l].Shape);
            for (int dir = 0; dir < dirs; dir++)
            {
                string s = $"l{l}{(dir == 1 ? "_reverse" : "")}";
                var g = geometry[l, dir];
                int at = l * dirs + dir;
                var dh0 = Tensor.Full(Target, float.NaN, n, h);
                var dc0 = lstm ? Tensor.Full(Target, float.NaN, n, h) : null;
                var dwih = Tensor.Zeros(Target, g.GateWidth, g.InputSize);
                var dwhh = Tensor.Zeros(Target, g.GateWidth, h);
                var dbih = Tensor.Zeros(Target, g.GateWidth);
                var dbhh = Tensor.Zeros(Target, g.GateWidth);
                Target.RecurrentBackward(g, inputs[l], lengths, Param("weight_ih_" + s), Param("weight_hh_" + s), dOut, State("dh_n", at),
                    lstm ? State("dc_n", at) : null, ws[l, dir], dIn, dh0, dc0, dwih, dwhh, dbih, dbhh, accumulateDx: dir > 0);
                tol.AssertClose(c.Expected("h0.grad").Row(at), dh0.ToArray(), $"{c} h0.grad[{at}]");
                if (lstm)
                {
                    tol.AssertClose(c.Expected("c0.grad").Row(at), dc0!.ToArray(), $"{c} c0.grad[{at}]");
                }
                tol.AssertClose(c.Expected($"weight_ih_{s}.grad").Data, dwih.ToArray(), $"{c} weight_ih_{s}.grad");
                tol.AssertClose(c.Expected($"weight_hh_{s}.grad").Data, dwhh.ToArray(), $"{c} weight_hh_{s}.grad");
                tol.AssertClose(c.Expected($"bias_ih_{s}.grad").Data, dbih.ToArray(), $"{c} bias_ih_{s}.grad");
                tol.AssertClose(c.Expected($"bias_hh_{s}.grad").Data, dbhh.ToArray(), $"{c} bias_hh_{s}.grad");
            }
            dOut = dIn;
        }
        tol.AssertClose(c.Expected("x.grad").Data, dOut.ToArray(), $"{c} x.grad");
    }
}

/// <summary>The PyTorch recurrent fixtures on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuRecurrentFixtureTests(IlgpuCpuAcceleratorFixture fixture) : RecurrentFixtureTests
{
    protected override Device Target => fixture.Device;
}

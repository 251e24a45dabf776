using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>MatMul(a, b)</c>: <c>torch.matmul</c> on the per-sample dimensions (the batch N is every operand's first). A vector
/// [K] is a row on the left and a column on the right and its dimension leaves the result ([K] x [K] keeps one, [1]); the
/// dimensions before the last two broadcast, compared from the right (equal, 1 or missing; symbols exactly). Forward is
/// <c>Device.MatMulSamples</c> (one GEMM per batch entry, a broadcast operand read in place); backward forms dA = dC B^T and
/// dB = A^T dC at the broadcast batch shape in scratch buffers and sums each over the dimensions its operand was broadcast
/// along (<c>Device.MatMulSamplesBackward</c>).
/// </summary>
internal sealed class MatMulOp : Op
{
    public const string Name = "MatMul";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Each gradient reads the other operand.</summary>
    public override Keeps BackwardReads(GraphNode node) => new(false, 0, 1);

    public override LayerOutcome Infer(LayerInput i)
    {
        var a = i.Net("a") ?? throw new System.InvalidOperationException("MatMul(a, b) without a");
        var b = i.Net("b") ?? throw new System.InvalidOperationException("MatMul(a, b) without b");
        foreach (var operand in new[] { a, b })
        {
            if (operand.DType == "int64")
            {
                return LayerOutcome.Fail(Descriptors.TypedInputUse, i.Source, operand.From, operand.DTypeText);
            }
        }
        var g = Geometry.Of(a.Dims, b.Dims);
        if (!g.K.Equals(g.Kb))
        {
            return LayerOutcome.Fail(Descriptors.MatMulInner, i.Source, a.Text, a.From, b.Text, b.From, g.K.ToString(), g.Kb.ToString());
        }
        var batch = TensorShapes.Broadcast(g.BatchA, g.BatchB, out string why);
        if (batch is null)
        {
            return LayerOutcome.Fail(Descriptors.MatMulBatch, i.Source, a.Text, a.From, b.Text, b.From, why);
        }
        var dims = batch.Value.ToList();
        if (!g.VectorA)
        {
            dims.Add(g.M);
        }
        if (!g.VectorB)
        {
            dims.Add(g.N);
        }
        if (dims.Count == 0)
        {
            dims.Add(Dim.Of(1));
        }
        long flops = checked(2 * TensorShapes.Count(batch.Value) * TensorShapes.Count(new[] { g.M, g.N, g.K }));
        return TensorShapes.Outcome(Name, dims, a.IsSymbolic || b.IsSymbolic, flops);
    }

    /// <summary>The matrices of the product: [M,K] x [K,N] after promoting vectors, and the batch dimensions before them.</summary>
    private sealed record Geometry(Dim M, Dim K, Dim Kb, Dim N, bool VectorA, bool VectorB, IReadOnlyList<Dim> BatchA, IReadOnlyList<Dim> BatchB)
    {
        public static Geometry Of(IReadOnlyList<Dim> a, IReadOnlyList<Dim> b)
        {
            bool va = a.Count == 1, vb = b.Count == 1;
            var m = va ? Dim.Of(1) : a[a.Count - 2];
            var k = a[a.Count - 1];
            var kb = vb ? b[0] : b[b.Count - 2];
            var n = vb ? Dim.Of(1) : b[b.Count - 1];
            return new Geometry(m, k, kb, n, va, vb, a.Take(System.Math.Max(a.Count - 2, 0)).ToList(), b.Take(System.Math.Max(b.Count - 2, 0)).ToList());
        }

        public IEnumerable<Dim> Batch => TensorShapes.Broadcast(BatchA, BatchB, out _)!.Value;
    }

    private static Geometry Of(Plan plan, GraphNode node)
        => Geometry.Of(plan.Nodes[node.Inputs[0]].Dims.Items, plan.Nodes[node.Inputs[1]].Dims.Items);

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        var g = Of(plan, node);
        for (int k = 0; k < 2; k++)
        {
            if (plan.HasGradient(plan.Nodes[node.Inputs[k]]))
            {
                var size = g.Batch.Concat(k == 0 ? new[] { g.M, g.K } : new[] { g.K, g.N });
                yield return new BufferDecl(Names.Field(Scratch(node, k)), "global::Dsl.SymbolicSlot", "new global::Dsl.SymbolicSlot(device)",
                    $"the gradient of operand {(k == 0 ? "a" : "b")} before its broadcast dimensions are summed", TensorShapes.Count(size));
            }
        }
    }

    private static string Scratch(GraphNode node, int k) => Names.Value(node) + (k == 0 ? "_da" : "_db");

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.MatMulSamples({c.X(node, 0)}, {c.X(node, 1)}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var g = Of(c.Plan, node);
        var grads = new string[2];
        var scratch = new string[2];
        var accumulate = new bool[2];
        var nullable = new List<int>();
        for (int k = 0; k < 2; k++)
        {
            var input = c.Input(node, k);
            if (!c.Plan.HasGradient(input) || (k == 1 && node.Inputs[0] == node.Inputs[1]))
            {
                grads[k] = "null";
                scratch[k] = "null";
                continue;
            }
            var size = g.Batch.Concat(k == 0 ? new[] { g.M, g.K } : new[] { g.K, g.N });
            scratch[k] = c.Fetch(Scratch(node, k), $"{Names.Field(Scratch(node, k))}.Rows(n, {Names.Product(null, size)})");
            grads[k] = c.Dx(node, k);
            accumulate[k] = c.Accumulate(input.Id);
        }
        if (node.Inputs[0] == node.Inputs[1] && grads[0] != "null")
        {
            // MatMul(x, x): two contributions to one gradient, the second added to the first.
            c.Guarded($"device.MatMulSamplesBackward({c.X(node, 0)}, {c.X(node, 1)}, {c.Dy(node)}, {grads[0]}, {scratch[0]}, {Names.Bool(accumulate[0])}, null, null, false);", node.Id);
            string s1 = c.Fetch(Scratch(node, 1), $"{Names.Field(Scratch(node, 1))}.Rows(n, {Names.Product(null, g.Batch.Concat(new[] { g.K, g.N }))})");
            c.Guarded($"device.MatMulSamplesBackward({c.X(node, 0)}, {c.X(node, 1)}, {c.Dy(node)}, null, null, false, {grads[0]}, {s1}, true);", node.Id);
            return;
        }
        c.Guarded($"device.MatMulSamplesBackward({c.X(node, 0)}, {c.X(node, 1)}, {c.Dy(node)}, {grads[0]}, {scratch[0]}, {Names.Bool(accumulate[0])}, "
            + $"{grads[1]}, {scratch[1]}, {Names.Bool(accumulate[1])});", node.Id);
    }

    /// <summary>ONNX's <c>MatMul</c> has numpy's rules, the same as the per-sample ones once the batch leads both operands.</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        var a = c.Input(node, 0);
        var b = c.Input(node, 1);
        if (a.Dims.Count == 1 || b.Dims.Count == 1 || a.Dims.Count != b.Dims.Count)
        {
            c.Refuse(node);
            return;
        }
        c.Node("MatMul", new[] { c.X(node, 0), c.X(node, 1) }, c.Y(node));
    }
}

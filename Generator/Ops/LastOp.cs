using System.Collections.Immutable;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>| Last</c> after a recurrent layer: [T, dirs*H] -> [dirs*H], the top layer's last hidden state, forward and reverse
/// concatenated (PyTorch's <c>cat(h_n[-2], h_n[-1])</c>; <c>h_n[-1]</c> alone for one direction). The forward copies
/// the h_n the kernels wrote into the recurrent op's buffers (each sample's state after its last valid step, and the
/// reverse direction's after step 0); backward hands dy to the recurrent op's dh_n buffers, which its backpropagation
/// through time starts from, and contributes zero to the sequence's own gradient (the state reaches the loss only here).
/// </summary>
internal sealed class LastOp : Op
{
    public const string Name = "Last";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Backward reads nothing: it only routes dy to the recurrent op's buffers.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override LayerOutcome Infer(LayerInput i)
    {
        var producer = i.Producer;
        if (producer is null || producer.Op != RecurrentOp.Name)
        {
            return LayerOutcome.Fail(Descriptors.LastWithoutRecurrent, i.Source, i.Received, i.From);
        }
        long width = (long)RecurrentOp.Dirs(producer) * RecurrentOp.Hidden(producer);
        return new LayerOutcome
        {
            Op = Name,
            Shape = ImmutableArray.Create(width),
            Flops = 0,
            // The state has no time axis: its shape is fixed even when the sequence's length is a symbol.
            Dims = i.IsSymbolic ? ImmutableArray.Create(Dim.Of(width)) : default,
        };
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        var rnn = c.Input(node);
        int hidden = RecurrentOp.Hidden(rnn), dirs = RecurrentOp.Dirs(rnn), top = RecurrentOp.Layers(rnn) - 1;
        string y = c.Slot(node);
        for (int d = 0; d < dirs; d++)
        {
            c.Line($"device.CopyChannels({Names.Field(RecurrentOp.HLast(rnn, top, d))}.Rows(n), srcChannels: {Names.Int(hidden)}, srcOffset: 0, {y}, "
                + $"dstChannels: {Names.Int(dirs * hidden)}, dstOffset: {Names.Int(d * hidden)}, count: {Names.Int(hidden)}, n, spatial: 1, accumulate: false);");
        }
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var rnn = c.Input(node);
        int hidden = RecurrentOp.Hidden(rnn), dirs = RecurrentOp.Dirs(rnn);
        string dy = c.Dy(node);
        for (int d = 0; d < dirs; d++)
        {
            // Several Last of one layer add up; the first assigns.
            string dh = RecurrentOp.DhLast(rnn, d);
            bool accumulate = c.Accumulate(dh);
            c.Line($"device.CopyChannels({dy}, srcChannels: {Names.Int(dirs * hidden)}, srcOffset: {Names.Int(d * hidden)}, {Names.Field(dh)}.Rows(n), "
                + $"dstChannels: {Names.Int(hidden)}, dstOffset: 0, count: {Names.Int(hidden)}, n, spatial: 1, accumulate: {Names.Bool(accumulate)});");
        }
        if (!c.Accumulate(rnn.Id))
        {
            // The first contribution to the sequence's gradient: zero, so BPTT starts from dh_n alone when nothing else reads it.
            string dx = c.Dx(node);
            c.Guarded($"device.Fill({dx}, 0f);", dx);
        }
    }

    /// <summary>
    /// ONNX: the top layer's <c>Y_h</c> [dirs,N,H] that the recurrent op's mapping names (<see cref="RecurrentOp.ExportedLast"/>),
    /// transposed to [N,dirs,H] and flattened to [N,dirs*H] (forward then reverse).
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        string transposed = c.Temp(node, "batch_first"), shape = c.Temp(node, "shape");
        c.Node("Transpose", new[] { c.Name(RecurrentOp.ExportedLast(c.Input(node))) }, transposed, c.Ints("perm", 1, 0, 2));
        c.Int64s(shape, 0, -1);
        c.Node("Reshape", new[] { transposed, shape }, c.Y(node));
    }
}

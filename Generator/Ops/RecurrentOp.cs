using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.RNN</c>, <c>nn.LSTM</c> and <c>nn.GRU</c> with <c>batch_first=True</c>: [T, D] -> [T, dirs*H], one op for the three
/// cells, whose differences live in the runtime's <c>RecurrentKind</c> (gate count, gate order, cell math). Each layer runs
/// one <c>RecurrentForward</c> per direction, the directions writing the two halves of the layer's [N,T,2H] output, which
/// the next layer reads (after dropout in training, PyTorch's semantics: between layers, never after the last). Backward
/// runs the layers top down, both directions adding into the same input gradient; the weights' gradients are summed over
/// every step by the kernel (backpropagation through time).
/// Owned buffers: per layer-direction the kernel's workspace (what backward reads: projections, gates, previous states)
/// and the last states h_n (c_n); the outputs of the inner layers with their gradients and dropout masks; the lengths
/// a mask gives; per layer-direction initial states and their gradients when h0 is given. Buffers of a symbolic length
/// grow to the longest batch and are reused after.
/// https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html
/// </summary>
internal sealed class RecurrentOp : Op
{
    public const string Name = "Recurrent";

    public override string Key => Name;

    public override IEnumerable<string> Calls => new[] { "Rnn", "Lstm", "Gru" };

    public override bool TakesSymbols => true;

    /// <summary>Backward reads x (the first layer's input); everything else it needs is in the workspaces it owns.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.FirstInput;

    public override LayerOutcome Infer(LayerInput i)
    {
        string? kind = i.Layer switch
        {
            "Lstm" => "Lstm",
            "Gru" => "Gru",
            _ => i.Args.String("nonlinearity") switch
            {
                "tanh" => "RnnTanh",
                "relu" => "RnnRelu",
                _ => null,
            },
        };
        if (kind is null)
        {
            return LayerOutcome.Fail(Descriptors.UnknownNonlinearity, i.Source, i.Args.Raw("nonlinearity").Display);
        }
        long hidden = i.Args.Int("hidden"), layers = i.Args.Int("layers");
        double dropout = i.Args.Number("dropout");
        if (hidden <= 0)
        {
            return Bad(i, $"the hidden size must be positive, got {hidden}");
        }
        if (layers < 1)
        {
            return Bad(i, $"layers must be at least 1, got {layers}");
        }
        if (!(dropout >= 0 && dropout < 1))
        {
            return Bad(i, $"dropout must lie in [0, 1), got {LayerArgs.Format(dropout)}");
        }
        if (i.Shape.Length != 2)
        {
            return LayerOutcome.Fail(Descriptors.NotASequence, i.Source, i.Received, i.From);
        }
        if (LayerRules.RequireFixed(i, 1, "input size (the last dimension)") is { } symbolic)
        {
            return symbolic;
        }
        if (MaskArg.Check(i, i.IsSymbolic ? i.Dims[0] : Dim.Of(i.Shape[0])) is { } mask)
        {
            return mask;
        }
        bool bidirectional = i.Args.Bool("bidirectional");
        bool bias = i.Args.Bool("bias");
        long dirs = bidirectional ? 2 : 1;
        if (i.Net("c0") is not null && i.Net("h0") is null)
        {
            return Bad(i, "c0 needs h0 beside it (the LSTM's initial state is the pair)");
        }
        foreach (string state in new[] { "h0", "c0" })
        {
            if (StateCheck(i, state, layers * dirs, hidden) is { } wrong)
            {
                return wrong;
            }
        }
        long inputSize = i.Shape[1];
        long gates = Gates(kind);
        long width = checked(dirs * hidden);
        var o = new LayerOutcome
        {
            Op = Name,
            Shape = ImmutableLong(i.Shape[0], width),
            NamePrefix = i.Layer.ToLowerInvariant(),
            Dims = i.IsSymbolic ? System.Collections.Immutable.ImmutableArray.Create(i.Dims[0], Dim.Of(width)) : default,
        };
        long flops = 0;
        for (long l = 0; l < layers; l++)
        {
            long input = l == 0 ? inputSize : width;
            for (long d = 0; d < dirs; d++)
            {
                string suffix = "_l" + LayerRules.Text(l) + (d == 1 ? "_reverse" : "");
                // PyTorch's order (named_parameters): per layer and direction weight_ih, weight_hh, bias_ih, bias_hh,
                // all U(-1/sqrt(H), 1/sqrt(H)).
                o.Params.Add(("weight_ih" + suffix, new[] { gates * hidden, input }, "uniform", hidden));
                o.Params.Add(("weight_hh" + suffix, new[] { gates * hidden, hidden }, "uniform", hidden));
                if (bias)
                {
                    o.Params.Add(("bias_ih" + suffix, new[] { gates * hidden }, "uniform", hidden));
                    o.Params.Add(("bias_hh" + suffix, new[] { gates * hidden }, "uniform", hidden));
                }
                // Per step: the two products and the cell's elementwise work (about 8 operations per gate unit).
                flops = checked(flops + 2 * gates * hidden * (input + hidden) + 8 * gates * hidden);
            }
        }
        o.Flops = checked(flops * i.Shape[0]);
        return o.With(KindAttr, kind).With(HiddenAttr, hidden).With(LayersAttr, layers).With(DirsAttr, dirs).With("input", inputSize)
            .With("dropout", dropout).With("bias", bias);
    }

    public const string KindAttr = "kind";
    public const string HiddenAttr = "hidden";
    public const string LayersAttr = "layers";
    public const string DirsAttr = "dirs";

    /// <summary>
    /// DSL1035 unless the initial state <paramref name="state"/> (if given) is float32 [N, layers*dirs, H] (PyTorch's
    /// [layers*dirs, N, H] with the batch first), or [N, H] (or [N, 1, H]) for one layer in one direction.
    /// </summary>
    private static LayerOutcome? StateCheck(LayerInput i, string state, long count, long hidden)
    {
        var given = i.Net(state);
        if (given is null)
        {
            return null;
        }
        var dims = given.Dims;
        bool fits = given.DType == NetArg.Float32 && dims.All(d => d.IsConstant) && (
            dims.Length == 2 && dims[0].Constant == count && dims[1].Constant == hidden
            || count == 1 && dims.Length == 1 && dims[0].Constant == hidden);
        if (fits)
        {
            return null;
        }
        string expected = count == 1 ? $"[N,{hidden}]" : $"[N,{count},{hidden}] (layers x directions, hidden; PyTorch's [layers*dirs,N,H] batch first)";
        return LayerOutcome.Fail(Descriptors.InitialStateShape, i.Source, state, expected, given.Text + (given.DType == NetArg.Float32 ? "" : " (" + given.DTypeText + ")"), given.From);
    }

    private static LayerOutcome Bad(LayerInput i, string why) => LayerOutcome.Fail(Descriptors.RecurrentArgument, i.Source, why);

    private static System.Collections.Immutable.ImmutableArray<long> ImmutableLong(long a, long b) => System.Collections.Immutable.ImmutableArray.Create(a, b);

    private static long Gates(string kind) => kind switch
    {
        "RnnTanh" or "RnnRelu" => 1,
        "Lstm" => 4,
        "Gru" => 3,
        _ => throw new System.InvalidOperationException($"unknown recurrent kind {kind}"),
    };

    /// <summary>
    /// Why a value a recurrent layer (or its <see cref="LastOp"/>) produced has its width, for DSL1030 when the next layer
    /// declares another: <c>Lstm(64, bidirectional: true) gives 2 x 64 = 128 features, both directions concatenated</c>.
    /// Null when <paramref name="producer"/> is not such a value.
    /// </summary>
    public static string? WidthNote(GraphNode? producer, GraphNode? recurrent)
    {
        if (producer is null || recurrent is null || recurrent.Op != Name)
        {
            return null;
        }
        long hidden = recurrent.IntAttr(HiddenAttr), dirs = recurrent.IntAttr(DirsAttr);
        string what = producer.Op == LastOp.Name ? "its last state has" : "it gives";
        return dirs == 2
            ? $"{recurrent.Label} is bidirectional, so {what} 2 x {hidden} = {2 * hidden} features, both directions concatenated"
            : $"{recurrent.Label} has hidden size {hidden}, so {what} {hidden} features";
    }

    // ------------------------------------------------------------------ names of the owned buffers

    private static string Id(GraphNode node) => Names.Int(node.Id);

    private static string L(int layer) => layer.ToString(CultureInfo.InvariantCulture);

    /// <summary>The output of inner layer <paramref name="layer"/> (not the top one, which is the node's value).</summary>
    private static string Out(GraphNode node, int layer) => $"rnn{Id(node)}Out{L(layer)}";

    /// <summary>The dropped output of inner layer <paramref name="layer"/>, the next layer's input in training.</summary>
    private static string Drop(GraphNode node, int layer) => $"rnn{Id(node)}Drop{L(layer)}";

    private static string DropMask(GraphNode node, int layer) => $"rnn{Id(node)}Mask{L(layer)}";

    private static string Workspace(GraphNode node, int layer, int dir) => $"rnn{Id(node)}Ws{L(layer)}{Dir(dir)}";

    /// <summary>The last hidden state of a layer-direction, [N,H] (read by <see cref="LastOp"/> for the top layer).</summary>
    public static string HLast(GraphNode node, int layer, int dir) => $"rnn{Id(node)}Hn{L(layer)}{Dir(dir)}";

    /// <summary>The gradient of the top layer's last hidden state, written by <see cref="LastOp"/>'s backward.</summary>
    public static string DhLast(GraphNode node, int dir) => $"drnn{Id(node)}Hn{Dir(dir)}";

    private static string CLast(GraphNode node, int layer, int dir) => $"rnn{Id(node)}Cn{L(layer)}{Dir(dir)}";

    private static string Dir(int dir) => dir == 1 ? "R" : "F";

    /// <summary>Layer-direction <paramref name="layer"/>, <paramref name="dir"/>'s slice of the initial state <paramref name="state"/> (h0 or c0), [N,H].</summary>
    private static string Initial(GraphNode node, string state, int layer, int dir) => $"rnn{Id(node)}{state.ToUpperInvariant()}{L(layer)}{Dir(dir)}";

    /// <summary>True when the initial state is one [N,H] value used as it is (one layer, one direction).</summary>
    private static bool Whole(GraphNode node) => Layers(node) * Dirs(node) == 1;

    public static int Layers(GraphNode node) => node.IntAttr(LayersAttr);

    public static int Dirs(GraphNode node) => node.IntAttr(DirsAttr);

    public static int Hidden(GraphNode node) => node.IntAttr(HiddenAttr);

    private static bool IsLstm(GraphNode node) => node.Attr(KindAttr) == "Lstm";

    private static double DropoutP(GraphNode node) => double.Parse(node.Attr("dropout"), CultureInfo.InvariantCulture);

    /// <summary>The length T as generated code reads it: the bound symbol's local, or the constant.</summary>
    public static string Time(GraphNode node) => node.IsSymbolic ? node.Symbolic[0].Code : Names.Int(node.Shape[0]);

    /// <summary>True when some <see cref="LastOp"/> reads the top layer's last state, whose gradient then enters BPTT.</summary>
    private static bool HasLast(Plan plan, GraphNode node) => plan.LiveNodes.Any(n => n.Op == LastOp.Name && n.Inputs[0] == node.Id);

    // ------------------------------------------------------------------ buffers

    /// <summary>A buffer shaped like the node's value [N,T,dirs*H]: a symbolic slot when T is a symbol, else a batch-sized slot.</summary>
    private static BufferDecl LikeValue(string local, GraphNode node, bool evaluation)
        => node.IsSymbolic
            ? Names.SymbolicSlot(local, node, evaluation)
            : new BufferDecl(Names.Field(local), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Shape(node.Shape)})", Elements: node.Elements, Evaluation: evaluation);

    private static BufferDecl State(string local, GraphNode node, bool evaluation)
        => new(Names.Field(local), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Int(Hidden(node))})", Elements: Hidden(node), Evaluation: evaluation);

    /// <summary>
    /// The workspace's floats per sample and unit of T, mirroring <c>RecurrentWorkspace.Layout</c> for the summary's memory
    /// line only (the generated code sizes it with <c>RecurrentWorkspace.Size</c>; a test keeps the two equal).
    /// </summary>
    public static long WorkspaceElements(string kind, long hidden, long time)
    {
        long gh = Gates(kind) * hidden;
        long saved = kind is "RnnTanh" or "RnnRelu" ? hidden : 4 * hidden;
        long perStep = gh + saved + hidden + (kind == "Lstm" ? hidden : 0) + (kind == "Gru" ? gh : 0);
        return checked(time * perStep + gh + 5 * hidden);
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        int layers = Layers(node), dirs = Dirs(node);
        bool dropout = DropoutP(node) > 0;
        bool grad = plan.NeedsGrad[node.Id];
        long wsElements = WorkspaceElements(node.Attr(KindAttr), Hidden(node), node.Shape[0]);
        for (int l = 0; l < layers; l++)
        {
            if (l < layers - 1)
            {
                yield return LikeValue(Out(node, l), node, evaluation: true);
                yield return LikeValue("d" + Out(node, l), node, evaluation: false);
                if (dropout)
                {
                    yield return LikeValue(Drop(node, l), node, evaluation: false);
                    yield return LikeValue("d" + Drop(node, l), node, evaluation: false);
                    yield return LikeValue(DropMask(node, l), node, evaluation: false);
                }
            }
            for (int d = 0; d < dirs; d++)
            {
                yield return new BufferDecl(Names.Field(Workspace(node, l, d)), "global::Dsl.SymbolicSlot", "new global::Dsl.SymbolicSlot(device)",
                    $"the workspace of layer {L(l)}{(d == 1 ? " reverse" : "")}, grows to the largest batch and length seen", Elements: wsElements, Evaluation: true);
                yield return State(HLast(node, l, d), node, evaluation: true);
                if (IsLstm(node))
                {
                    yield return State(CLast(node, l, d), node, evaluation: true);
                }
            }
        }
        if (MaskArg.Buffer(node) is { } lengths)
        {
            yield return lengths;
        }
        foreach (string state in States(node))
        {
            for (int l = 0; l < layers; l++)
            {
                for (int d = 0; d < dirs; d++)
                {
                    if (!Whole(node))
                    {
                        yield return State(Initial(node, state, l, d), node, evaluation: true);
                    }
                    yield return State("d" + Initial(node, state, l, d), node, evaluation: false);
                }
            }
        }
        if (grad && HasLast(plan, node))
        {
            for (int d = 0; d < dirs; d++)
            {
                yield return State(DhLast(node, d), node, evaluation: false);
            }
        }
    }

    /// <summary>The initial states given to the call: h0, and c0 for an LSTM given one.</summary>
    private static IEnumerable<string> States(GraphNode node) => new[] { "h0", "c0" }.Where(s => node.NetInput(s) >= 0);

    // ------------------------------------------------------------------ emission

    /// <summary><c>new global::Dsl.RecurrentGeometry(global::Dsl.RecurrentKind.Lstm, n, dimT, 16, 32, Reverse: true, OutputStride: 64, OutputOffset: 32)</c>.</summary>
    private static string Geometry(GraphNode node, int layer, int dir)
    {
        int hidden = Hidden(node), dirs = Dirs(node);
        string input = layer == 0 ? node.Attr("input") : Names.Int(dirs * hidden);
        return $"new global::Dsl.RecurrentGeometry(global::Dsl.RecurrentKind.{node.Attr(KindAttr)}, n, {Time(node)}, {input}, {Names.Int(hidden)}, "
            + $"Reverse: {Names.Bool(dir == 1)}, OutputStride: {Names.Int(dirs * hidden)}, OutputOffset: {Names.Int(dir * hidden)})";
    }

    private static string Param(GraphNode node, string member, string name, int layer, int dir)
        => member == "Value" ? Names.ParamValue(node, name + "_l" + L(layer) + (dir == 1 ? "_reverse" : ""))
            : Names.ParamGrad(node, name + "_l" + L(layer) + (dir == 1 ? "_reverse" : ""));

    /// <summary>The rows of a buffer shaped like the value: <c>_rnn3Out0.Rows(n, dimT, 64)</c>.</summary>
    private static string Rows(string local, GraphNode node) => Names.Field(local) + "." + Names.Rows(node);

    /// <summary>The workspace's rows: <c>_rnn3Ws0F.Rows(n, rnn3Ws)</c>, its per-sample size computed once per call.</summary>
    private static string WorkspaceRows(GraphNode node, int layer, int dir) => $"{Names.Field(Workspace(node, layer, dir))}.Rows(n, {WsLocal(node)})";

    private static string WsLocal(GraphNode node) => $"rnn{Id(node)}Ws";

    private static string WsSize(GraphNode node)
        => $"var {WsLocal(node)} = checked((int)global::Dsl.RecurrentWorkspace.Size(global::Dsl.RecurrentKind.{node.Attr(KindAttr)}, 1, {Time(node)}, {Names.Int(Hidden(node))}));";

    private static string Seed(GraphNode node, int layer) => $"global::Dsl.CounterRandom.Derive(DropoutSeed({Id(node)}), {L(layer)}UL)";

    public override void Forward(ForwardContext c, GraphNode node)
    {
        int layers = Layers(node), dirs = Dirs(node);
        bool dropout = DropoutP(node) > 0;
        bool lstm = IsLstm(node);
        string y = c.Slot(node);
        c.Line(WsSize(node));
        string lengths = MaskArg.Forward(c, node);
        var initial = new Dictionary<string, string>();
        foreach (string state in States(node))
        {
            string value = c.Net(node, state)!;
            for (int l = 0; l < layers; l++)
            {
                for (int d = 0; d < dirs; d++)
                {
                    string slice = Initial(node, state, l, d);
                    if (Whole(node))
                    {
                        initial[slice] = value;
                        continue;
                    }
                    // Layer l, direction d is PyTorch's state index l * dirs + d: one channel of [N, layers*dirs, H].
                    c.Line($"var {slice} = {Names.Field(slice)}.Rows(n);");
                    c.Line($"device.CopyChannels({value}, srcChannels: {Names.Int(layers * dirs)}, srcOffset: {Names.Int(l * dirs + d)}, {slice}, dstChannels: 1, dstOffset: 0, "
                        + $"count: 1, n, spatial: {Names.Int(Hidden(node))}, accumulate: false);");
                    initial[slice] = slice;
                }
            }
        }
        string Start(string state, int l, int d) => initial.TryGetValue(Initial(node, state, l, d), out string? v) ? v : "null";
        string input = c.X(node);
        for (int l = 0; l < layers; l++)
        {
            string output = y;
            if (l < layers - 1)
            {
                output = Out(node, l);
                c.Line($"var {output} = {Rows(output, node)};");
            }
            for (int d = 0; d < dirs; d++)
            {
                c.Line($"device.RecurrentForward({Geometry(node, l, d)}, {input}, {lengths}, {Param(node, "Value", "weight_ih", l, d)}, "
                    + $"{Param(node, "Value", "weight_hh", l, d)}, {Param(node, "Value", "bias_ih", l, d)}, {Param(node, "Value", "bias_hh", l, d)}, "
                    + $"{Start("h0", l, d)}, {Start("c0", l, d)}, {output}, {Names.Field(HLast(node, l, d))}.Rows(n), "
                    + $"{(lstm ? Names.Field(CLast(node, l, d)) + ".Rows(n)" : "null")}, {WorkspaceRows(node, l, d)});");
            }
            if (l < layers - 1)
            {
                if (dropout)
                {
                    // Dropout between layers in training only (nn.LSTM's dropout); in evaluation the next layer reads the output itself.
                    string dropped = Drop(node, l);
                    c.Line($"var {dropped} = {Rows(dropped, node)};");
                    c.Line($"if (_trainingForward) device.Dropout({output}, {Rows(DropMask(node, l), node)}, {dropped}, {Names.FloatAttr(node, "dropout")}, {Seed(node, l)}, group: 1);");
                    input = $"rnn{Id(node)}In{L(l + 1)}";
                    c.Line($"var {input} = _trainingForward ? {dropped} : {output};");
                }
                else
                {
                    input = output;
                }
            }
        }
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        int layers = Layers(node), dirs = Dirs(node);
        bool dropout = DropoutP(node) > 0;
        bool lstm = IsLstm(node);
        bool last = HasLast(c.Plan, node);
        var x = c.Input(node);
        string dOut = c.Dy(node);
        c.Line(WsSize(node));
        string lengths = MaskArg.Backward(c, node);
        var states = States(node).ToList();
        for (int l = layers - 1; l >= 0; l--)
        {
            // This layer's input and where its gradient goes: the node's input for the first layer, else the layer below's
            // (dropped) output.
            string input, dInput;
            bool accumulate;
            if (l == 0)
            {
                input = c.X(node);
                accumulate = c.Accumulate(x.Id);
                dInput = c.Dx(node);
            }
            else
            {
                string below = Out(node, l - 1);
                c.Line($"var {below} = {Rows(below, node)};");
                if (dropout)
                {
                    string dropped = Drop(node, l - 1);
                    c.Line($"var {dropped} = {Rows(dropped, node)};");
                    input = $"rnn{Id(node)}In{L(l)}";
                    c.Line($"var {input} = _trainingForward ? {dropped} : {below};");
                    dInput = "d" + dropped;
                }
                else
                {
                    input = below;
                    dInput = "d" + below;
                }
                c.Line($"var {dInput} = {Rows(dInput, node)};");
                accumulate = false;
            }
            for (int d = 0; d < dirs; d++)
            {
                string dhLast = l == layers - 1 && last ? Names.Field(DhLast(node, d)) + ".Rows(n)" : "null";
                string dh0 = states.Contains("h0") ? Names.Field("d" + Initial(node, "h0", l, d)) + ".Rows(n)" : "null";
                string dc0 = states.Contains("c0") ? Names.Field("d" + Initial(node, "c0", l, d)) + ".Rows(n)" : "null";
                c.Line($"device.RecurrentBackward({Geometry(node, l, d)}, {input}, {lengths}, {Param(node, "Value", "weight_ih", l, d)}, "
                    + $"{Param(node, "Value", "weight_hh", l, d)}, {dOut}, {dhLast}, null, {WorkspaceRows(node, l, d)}, {dInput}, {dh0}, {dc0}, "
                    + $"{Param(node, "Grad", "weight_ih", l, d)}, {Param(node, "Grad", "weight_hh", l, d)}, {Param(node, "Grad", "bias_ih", l, d)}, "
                    + $"{Param(node, "Grad", "bias_hh", l, d)}, accumulateDx: {Names.Bool(accumulate || d > 0)});");
            }
            if (l > 0)
            {
                string dBelow = "d" + Out(node, l - 1);
                if (dropout)
                {
                    c.Line($"var {dBelow} = {Rows(dBelow, node)};");
                    c.Line($"device.DropoutBackward({dInput}, _trainingForward ? {Rows(DropMask(node, l - 1), node)} : null, {dBelow}, accumulate: false);");
                }
                dOut = dBelow;
            }
        }
        // The initial states' gradients, each layer-direction's into its channel of [N, layers*dirs, H] (the whole [N,H] for
        // one layer-direction); a state that also feeds other layers adds to what they gave.
        foreach (string state in states)
        {
            int k = node.NetInput(state);
            var value = c.Input(node, k);
            bool accumulate = c.Accumulate(value.Id);
            string grad = c.Dx(node, k);
            for (int l = 0; l < layers; l++)
            {
                for (int d = 0; d < dirs; d++)
                {
                    c.Guarded($"device.CopyChannels({Names.Field("d" + Initial(node, state, l, d))}.Rows(n), srcChannels: 1, srcOffset: 0, {grad}, "
                        + $"dstChannels: {Names.Int(layers * dirs)}, dstOffset: {Names.Int(l * dirs + d)}, count: 1, n, spatial: {Names.Int(Hidden(node))}, "
                        + $"accumulate: {Names.Bool(accumulate)});", grad);
                }
            }
        }
    }

    // ------------------------------------------------------------------ ONNX

    /// <summary>The name of the top layer's last states <c>Y_h</c> [dirs,N,H] in the exported graph, which <see cref="LastOp"/> reads.</summary>
    public static string ExportedLast(GraphNode node) => Names.Value(node) + "_hn";

    /// <summary>
    /// ONNX: one <c>RNN</c>/<c>LSTM</c>/<c>GRU</c> node per layer, time-major (ONNX Runtime runs <c>layout = 0</c> only), both
    /// directions in one node. The weights stay PyTorch's initialisers: each is split into its gates and concatenated in
    /// ONNX's order (LSTM i,f,g,o to i,o,f,c; GRU r,z,n to z,r,h with <c>linear_before_reset = 1</c>, PyTorch's cell), then
    /// the directions stacked. A mask gives <c>sequence_lens</c> (its 1s per row); h0 (c0) [N, layers*dirs, H] gives each
    /// layer its [dirs,N,H] slice. Dropout between layers is the identity in evaluation.
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        int layers = Layers(node), dirs = Dirs(node), hidden = Hidden(node);
        string kind = node.Attr(KindAttr);
        bool bias = node.Params.Any(p => p.Name.Contains(".bias_ih_"));
        string op = kind switch
        {
            "Lstm" => "LSTM",
            "Gru" => "GRU",
            "RnnTanh" or "RnnRelu" => "RNN",
            _ => throw new System.InvalidOperationException($"unknown recurrent kind {kind}"),
        };
        string T(string suffix) => c.Temp(node, suffix);
        string P(string name, int l, int d) => c.Param(node, name + "_l" + L(l) + (d == 1 ? "_reverse" : ""))!;
        string zeroAxis = T("axis0");
        c.Int64s(zeroAxis, 0);
        string? lengths = null, sum = null;
        if (c.Net(node, MaskArg.Parameter) is { } mask)
        {
            string axes = T("mask_axes");
            sum = T("mask_sum");
            lengths = T("sequence_lens");
            c.Int64s(axes, 1);
            c.Node("ReduceSum", new[] { mask, axes }, sum, c.Int("keepdims", 0));
            c.Node("Cast", new[] { sum }, lengths, c.Int("to", 6));
        }
        string flat = T("flat_shape");
        c.Int64s(flat, 0, 0, -1);
        string input = T("time_major");
        c.Node("Transpose", new[] { c.X(node) }, input, c.Ints("perm", 1, 0, 2));

        // One PyTorch tensor in ONNX's gate order, with a leading direction axis of 1.
        string Gates(string name, string tensor)
        {
            string ordered = tensor;
            if (op != "RNN")
            {
                var parts = Enumerable.Range(0, op == "LSTM" ? 4 : 3).Select(k => T(name + "_gate" + L(k))).ToList();
                c.Node("Split", new[] { tensor }, parts, c.Int("axis", 0));
                var order = op == "LSTM" ? new[] { 0, 3, 1, 2 } : new[] { 1, 0, 2 };
                ordered = T(name + "_onnx");
                c.Node("Concat", order.Select(k => (string?)parts[k]), ordered, c.Int("axis", 0));
            }
            string stacked = T(name + "_dir");
            c.Node("Unsqueeze", new[] { ordered, zeroAxis }, stacked);
            return stacked;
        }
        string Directions(string name, System.Func<int, string> one)
        {
            var each = Enumerable.Range(0, dirs).Select(one).ToList();
            if (dirs == 1)
            {
                return each[0];
            }
            string both = T(name);
            c.Node("Concat", each.Select(e => (string?)e), both, c.Int("axis", 0));
            return both;
        }
        string? Initial(string state, int l)
        {
            if (c.Net(node, state) is not { } value)
            {
                return null;
            }
            string result = T(state + "_l" + L(l));
            if (Whole(node))
            {
                c.Node("Unsqueeze", new[] { value, zeroAxis }, result);
                return result;
            }
            // PyTorch's state index l * dirs + d: the channels [l*dirs, (l+1)*dirs) of [N, layers*dirs, H], direction first.
            string starts = T(state + "_l" + L(l) + "_start"), ends = T(state + "_l" + L(l) + "_end"), axes = T(state + "_l" + L(l) + "_axes");
            string slice = T(state + "_l" + L(l) + "_slice");
            c.Int64s(starts, l * dirs);
            c.Int64s(ends, (l + 1) * dirs);
            c.Int64s(axes, 1);
            c.Node("Slice", new[] { value, starts, ends, axes }, slice);
            c.Node("Transpose", new[] { slice }, result, c.Ints("perm", 1, 0, 2));
            return result;
        }

        for (int l = 0; l < layers; l++)
        {
            string layer = "l" + L(l);
            string w = Directions(layer + "_W", d => Gates(layer + Dir(d) + "_W", P("weight_ih", l, d)));
            string r = Directions(layer + "_R", d => Gates(layer + Dir(d) + "_R", P("weight_hh", l, d)));
            string? b = null;
            if (bias)
            {
                b = Directions(layer + "_B", d =>
                {
                    string ih = Gates(layer + Dir(d) + "_Bi", P("bias_ih", l, d)), hh = Gates(layer + Dir(d) + "_Bh", P("bias_hh", l, d));
                    string joined = T(layer + Dir(d) + "_B");
                    c.Node("Concat", new[] { ih, hh }, joined, c.Int("axis", 1));
                    return joined;
                });
            }
            var attributes = new List<string> { c.Int("hidden_size", hidden) };
            if (dirs == 2)
            {
                attributes.Add(c.String("direction", "bidirectional"));
            }
            if (op == "GRU")
            {
                attributes.Add(c.Int("linear_before_reset", 1));
            }
            if (kind == "RnnRelu")
            {
                attributes.Add(c.Strings("activations", Enumerable.Repeat("Relu", dirs).ToArray()));
            }
            string? h0 = Initial("h0", l);
            var inputs = new List<string?> { input, w, r, b, lengths, h0 };
            if (op == "LSTM")
            {
                inputs.Add(Initial("c0", l));
            }
            string y = T(layer + "_Y");
            bool last = l == layers - 1;
            string hn = last && sum is null ? c.Name(ExportedLast(node)) : T(layer + "_hn");
            c.Node(op, inputs, new[] { y, hn }, attributes.ToArray());
            if (last && sum is not null)
            {
                // A row of length 0 keeps its initial state as the forward does (ONNX Runtime does not): Y_h where the
                // row has a step, h0 (or zeros) elsewhere.
                string shape = T("rows_shape"), rows = T("rows"), zero = T("zero"), any = T("rows_any");
                c.Int64s(shape, 1, -1, 1);
                c.Node("Reshape", new[] { sum, shape }, rows);
                c.Fill(zero, 0);
                c.Node("Greater", new[] { rows, zero }, any);
                c.Node("Where", new[] { any, hn, h0 ?? zero }, c.Name(ExportedLast(node)));
            }
            // Y is [T, dirs, N, H]: the next layer reads [T, N, dirs*H]; the node's value is [N, T, dirs*H].
            bool top = l == layers - 1;
            string moved = T(layer + "_Y_moved");
            c.Node("Transpose", new[] { y }, moved, top ? c.Ints("perm", 2, 0, 1, 3) : c.Ints("perm", 0, 2, 1, 3));
            string output = top ? c.Y(node) : T(layer + "_out");
            c.Node("Reshape", new[] { moved, flat }, output);
            input = output;
        }
    }
}

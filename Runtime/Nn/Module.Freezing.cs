using System.Text;

namespace Dsl;

/// <summary>
/// Freezing layers for transfer learning: <see cref="Freeze"/>, <see cref="Unfreeze"/> and <see cref="FreezeFirst"/> set
/// <see cref="Parameter.RequiresGrad"/> by layer name; the generated <c>Backward</c> reads those flags on every call.
/// </summary>
/// <remarks>
/// A layer is what precedes the last dot of a parameter's name (<c>conv1</c> for <c>conv1.weight</c>, <c>trunk.conv1</c> for
/// <c>trunk.conv1.weight</c>), so a name given to <see cref="Freeze"/> is a layer, a dotted prefix of layers (<c>trunk</c>) or one
/// parameter. In <c>Backward</c>, a layer runs only when some parameter at or below it is trained (or the input's gradient was
/// asked for): the layers under the lowest trainable one compute nothing. A frozen layer that must still pass the gradient
/// down (a trainable layer lies below it) computes its weight gradients into a scratch buffer, never into
/// <see cref="Parameter.Grad"/>, which keeps its value. As in PyTorch, freezing a batch norm stops its affine parameters only:
/// in training mode it still normalises with the batch's statistics and updates its running ones.
/// </remarks>
public abstract partial class Module
{
    private Dictionary<Parameter, Tensor>? _frozenSinks;

    /// <summary>Test hook: how many times a frozen parameter's weight gradient went to its scratch buffer.</summary>
    internal int FrozenSinkWrites { get; private set; }

    /// <summary>The layers that own parameters, in definition order (<c>conv1</c>, <c>bn1</c>, <c>trunk.conv1</c>, ...).</summary>
    public IReadOnlyList<string> LayerNames => Parameters.Select(p => LayerOf(p.Name)).Distinct().ToList();

    /// <summary>The number of scalars in the parameters that are trained (<see cref="Parameter.RequiresGrad"/>).</summary>
    public long TrainableParameterCount => Parameters.Where(p => p.RequiresGrad).Sum(p => p.Length);

    /// <summary>
    /// Freezes the parameters of the named layers (PyTorch's <c>requires_grad_(False)</c> on a submodule): each name is a
    /// layer (<c>"conv1"</c>), a dotted prefix (<c>"trunk"</c>) or a parameter (<c>"fc1.bias"</c>). No name freezes every
    /// parameter. A name that matches nothing is an error listing the layers.
    /// </summary>
    public void Freeze(params string[] names) => SetRequiresGrad(names, false, nameof(Freeze));

    /// <summary>Unfreezes the named layers (as <see cref="Freeze"/> names them); no name unfreezes every parameter.</summary>
    public void Unfreeze(params string[] names) => SetRequiresGrad(names, true, nameof(Unfreeze));

    /// <summary>
    /// Freezes the first <paramref name="layers"/> layers of <see cref="LayerNames"/> (in definition order) and unfreezes the
    /// others: "fix the N first layers".
    /// </summary>
    public void FreezeFirst(int layers)
    {
        var all = LayerNames;
        if (layers < 0 || layers > all.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(layers), layers, $"{NetworkName} has {all.Count} layers with parameters ({string.Join(", ", all)}).");
        }
        var frozen = all.Take(layers).ToHashSet(StringComparer.Ordinal);
        foreach (var p in Parameters)
        {
            p.RequiresGrad = !frozen.Contains(LayerOf(p.Name));
        }
    }

    /// <summary>
    /// A table of the layers that own parameters: name, parameter count, and whether each is trained, frozen or partly
    /// frozen, then the total and trainable counts (the run-time side of the generated static <c>Summary</c>).
    /// </summary>
    public string ParameterSummary()
    {
        var rows = Parameters.GroupBy(p => LayerOf(p.Name)).Select(g =>
        {
            int trained = g.Count(p => p.RequiresGrad);
            string state = trained == g.Count() ? "trained" : trained == 0 ? "frozen" : "partly frozen";
            return (Layer: g.Key, Count: g.Sum(p => p.Length), State: state);
        }).ToList();
        int w = Math.Max("Layer".Length, rows.Count == 0 ? 0 : rows.Max(r => r.Layer.Length));
        var sb = new StringBuilder();
        sb.Append(NetworkName).Append(": parameters by layer\n");
        sb.Append("Layer".PadRight(w)).Append("  ").Append("Params".PadLeft(10)).Append("  State\n");
        foreach (var (layer, count, state) in rows)
        {
            sb.Append(layer.PadRight(w)).Append("  ").Append(count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture).PadLeft(10)).Append("  ").Append(state).Append('\n');
        }
        sb.Append("Total params: ").Append(ParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture))
          .Append(", trainable: ").Append(TrainableParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture))
          .Append(", frozen: ").Append((ParameterCount - TrainableParameterCount).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// Where the generated <c>Backward</c> writes <paramref name="parameter"/>'s gradient: its <see cref="Parameter.Grad"/> when
    /// it is trained, else a zeroed scratch buffer of its shape (created once), so a frozen layer that still passes the
    /// gradient to the layers below leaves its parameters' gradients untouched.
    /// </summary>
    protected Tensor GradFor(Parameter parameter)
    {
        if (parameter.RequiresGrad)
        {
            return parameter.Grad;
        }
        _frozenSinks ??= new Dictionary<Parameter, Tensor>();
        if (!_frozenSinks.TryGetValue(parameter, out var sink))
        {
            sink = Tensor.Zeros(parameter.Value.Device, parameter.Shape);
            _frozenSinks.Add(parameter, sink);
        }
        else
        {
            Device.Fill(sink, 0f);
        }
        FrozenSinkWrites++;
        return sink;
    }

    /// <summary>The layer of a parameter name: everything before its last dot (the whole name when it has none).</summary>
    public static string LayerOf(string parameterName)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        int dot = parameterName.LastIndexOf('.');
        return dot < 0 ? parameterName : parameterName[..dot];
    }

    private void SetRequiresGrad(string[] names, bool value, string method)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Length == 0)
        {
            foreach (var p in Parameters)
            {
                p.RequiresGrad = value;
            }
            return;
        }
        var matched = new List<Parameter>();
        foreach (string name in names)
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(names));
            var hits = Parameters.Where(p => p.Name == name || p.Name.StartsWith(name + ".", StringComparison.Ordinal)).ToList();
            if (hits.Count == 0)
            {
                throw new ArgumentException($"{NetworkName}.{method}: no layer or parameter is named '{name}'; the layers are {string.Join(", ", LayerNames)}.", nameof(names));
            }
            matched.AddRange(hits);
        }
        foreach (var p in matched)
        {
            p.RequiresGrad = value;
        }
    }
}

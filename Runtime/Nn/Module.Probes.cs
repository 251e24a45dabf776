namespace Dsl;

public abstract partial class Module
{
    private readonly List<LayerProbe> _probes = new();
    private Dictionary<string, int>? _layerIndex;

    /// <summary>
    /// The generated table of layers, in definition order: each layer's number (as the summary prints it, <c>[3]</c>) and
    /// its name (<c>conv1</c>, <c>trunk.conv2</c>; the number as text, <c>"3"</c>, for a layer without a name).
    /// </summary>
    protected virtual IReadOnlyList<(int Id, string Name)> LayerTable => Array.Empty<(int, string)>();

    /// <summary>
    /// The names <see cref="Probe"/> accepts, in definition order: a layer's dotted name where it has one (<c>conv1</c>,
    /// <c>trunk.conv2</c>, as in the summary and the checkpoints), else its number in the summary as text (<c>"3"</c> for
    /// <c>[3] Relu</c>). A named layer also answers to its number.
    /// </summary>
    public IReadOnlyList<string> ProbeNames => LayerTable.Select(l => l.Name).ToArray();

    /// <summary>
    /// The generated table of layers whose own output is never stored because a fused kernel does their work with the
    /// next layer's (a convolution or batch norm that also applies the ReLU after it; a convolution folded into its batch
    /// norm in evaluation), with the reason. <see cref="Probe"/> refuses them, naming the way out: probe the next layer, or
    /// declare the network with <c>[Network(Fuse = false)]</c>.
    /// </summary>
    protected virtual IReadOnlyList<(int Id, string Name, string Why)> FusedLayers => Array.Empty<(int, string, string)>();

    /// <summary>
    /// How the <c>Relu</c> layers pass gradients back in <see cref="Backward"/>: the derivative (the default), or
    /// DeconvNet's or guided backpropagation's rule for saliency maps (<see cref="ReluBackwardRule"/>). Training with
    /// anything but <see cref="ReluBackwardRule.Standard"/> follows no gradient.
    /// </summary>
    public ReluBackwardRule ReluBackward
    {
        get => _reluBackward;
        set
        {
            ReluBackwardMath.Require(value, nameof(ReluBackward));
            _reluBackward = value;
        }
    }

    private ReluBackwardRule _reluBackward;

    /// <summary>
    /// Starts copying the outputs of the named layers at every <c>Forward</c> (PyTorch's forward hooks), until the probe is
    /// disposed: <c>using var probe = net.Probe("conv1", "5"); net.Forward(x); Tensor maps = probe["conv1"];</c>. Names are
    /// those of <see cref="ProbeNames"/>. Each value is copied where the layer writes it, so memory the evaluation plan
    /// reuses later in the same <c>Forward</c> does not matter; the copies are the probe's own tensors on the network's
    /// device, overwritten by the next <c>Forward</c>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A name is not a layer of this network (the message lists the valid ones).</exception>
    public LayerProbe Probe(params string[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0)
        {
            throw new ArgumentException($"{NetworkName}.Probe: name at least one layer; the layers are {string.Join(", ", ProbeNames)}.", nameof(layers));
        }
        var ids = layers.Select(ProbeId).ToArray();
        var probe = new LayerProbe(this, layers, ids);
        _probes.Add(probe);
        return probe;
    }

    /// <summary>True while a probe is registered: the generated <c>RunForward</c> reads it once and then calls <see cref="CaptureLayer"/> after each layer.</summary>
    protected bool Probing => _probes.Count > 0;

    /// <summary>The generated per-layer hook: hands layer <paramref name="id"/>'s value to every probe that asked for it.</summary>
    protected void CaptureLayer(int id, Tensor value)
    {
        foreach (var probe in _probes)
        {
            probe.Capture(id, value);
        }
    }

    internal void RemoveProbe(LayerProbe probe) => _probes.Remove(probe);

    /// <summary>The layer number behind <paramref name="name"/>: a name of <see cref="ProbeNames"/>, or any layer's number.</summary>
    internal int ProbeId(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        _layerIndex ??= BuildLayerIndex();
        foreach (var (fusedId, fusedName, why) in FusedLayers)
        {
            if (name == fusedName || name == fusedId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException(
                    $"{NetworkName}.Probe: layer '{name}' is fused: {why}. Probe the layer after it, or declare the network with [Network(Fuse = false)] to keep every layer's output.");
            }
        }
        return _layerIndex.TryGetValue(name, out int id) ? id
            : throw new KeyNotFoundException($"{NetworkName} has no layer '{name}'; its layers are {string.Join(", ", ProbeNames)}.");
    }

    private Dictionary<string, int> BuildLayerIndex()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (id, name) in LayerTable)
        {
            index[name] = id;
            index.TryAdd(id.ToString(System.Globalization.CultureInfo.InvariantCulture), id);
        }
        return index;
    }
}

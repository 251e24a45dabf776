namespace Dsl;

/// <summary>A trainable tensor with its PyTorch-style name (<c>fc1.weight</c>) and its gradient.</summary>
public sealed class Parameter
{
    public Parameter(string name, Tensor value)
    {
        Name = name;
        Value = value;
        Grad = Tensor.Zeros(value.Device, value.Shape);
    }

    /// <summary>The state-dict name, as PyTorch would print it.</summary>
    public string Name { get; }

    /// <summary>The current value.</summary>
    public Tensor Value { get; }

    /// <summary>The accumulated gradient: <c>Backward</c> adds to it, <c>ZeroGrad</c> clears it (PyTorch semantics).</summary>
    public Tensor Grad { get; }

    /// <summary>
    /// Whether the parameter is trained (PyTorch's <c>requires_grad</c>; true by default). A frozen parameter (false) keeps its
    /// value: <c>Backward</c> computes no gradient for it where its layer can skip that (an embedding table), and optimisers
    /// skip it, so its <see cref="Grad"/> stays as it was. The state dict holds it unchanged either way. Layers such as
    /// <c>Embedding(..., freeze: true)</c> start frozen; set it to freeze or unfreeze any parameter between steps.
    /// </summary>
    public bool RequiresGrad { get; set; } = true;

    /// <summary>
    /// Copies <paramref name="values"/> (row-major, exactly <see cref="Length"/> numbers) into the parameter: a pretrained
    /// embedding table, for example. The error names the parameter and both sizes.
    /// </summary>
    public void Load(ReadOnlySpan<float> values)
    {
        if (values.Length != Length)
        {
            throw new ArgumentException($"{Name} {Tensor.FormatShape(Value.Dims)} holds {Length} numbers, but {values.Length} were given.", nameof(values));
        }
        Value.Device.Upload(values, Value);
        Changed();
    }

    /// <summary>Copies <paramref name="values"/>, a tensor of the parameter's shape on any device, into the parameter.</summary>
    public void Load(Tensor values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!values.Shape.SequenceEqual(Shape) || values.DType != DType.Float32)
        {
            throw new ArgumentException($"{Name} is {Tensor.FormatShape(Value.Dims)} float32, but the tensor given is {values}.", nameof(values));
        }
        Load(values.ToArray());
    }

    /// <summary>
    /// Counts the changes of <see cref="Value"/> made through the library (<see cref="Load(ReadOnlySpan{float})"/>, an optimiser's
    /// step): caches derived from the value (the folded convolution weights of an evaluation forward) compare it. After
    /// writing <see cref="Value"/> directly, call <see cref="Changed"/>.
    /// </summary>
    public long Version { get; private set; }

    /// <summary>Marks <see cref="Value"/> as changed (see <see cref="Version"/>).</summary>
    public void Changed() => Version++;

    public int[] Shape => Value.Shape;
    public long Length => Value.Length;

    public override string ToString() => $"{Name} {Tensor.FormatShape(Value.Dims)}";
}

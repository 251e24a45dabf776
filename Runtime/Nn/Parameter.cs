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

    public int[] Shape => Value.Shape;
    public long Length => Value.Length;

    public override string ToString() => $"{Name} {Tensor.FormatShape(Value.Dims)}";
}

namespace Dsl;

// Kernels of steps the generator fuses (Generator/Emit/Fusion.cs): each is the unfused sequence in one pass.
public abstract partial class Device
{
    /// <summary>y = max(0, a + b): the sum closing a residual block and the ReLU after it, in one pass.</summary>
    public void AddRelu(Tensor a, Tensor b, Tensor y)
    {
        Elementwise3(a, b, y, nameof(AddRelu));
        AddReluCore(a, b, y);
    }

    protected abstract void AddReluCore(Tensor a, Tensor b, Tensor y);
}

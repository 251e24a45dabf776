namespace Dsl;

/// <summary>Elementwise nonlinearities, with PyTorch's definitions.</summary>
public enum ActivationKind
{
    /// <summary>max(0, x).</summary>
    Relu,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>1 / (1 + exp(-x)).</summary>
    Sigmoid,
    /// <summary>x if x &gt; 0 else alpha * x (PyTorch's default slope 0.01).</summary>
    LeakyRelu,
    /// <summary>x if x &gt; 0 else alpha * (exp(x) - 1) (default alpha 1).</summary>
    Elu,
    /// <summary>x * Phi(x) with the exact Gaussian CDF (PyTorch's default, approximate='none').</summary>
    Gelu,
    /// <summary>
    /// log(1 + exp(beta * x)) / beta, and x where beta * x &gt; threshold (PyTorch's <c>nn.Softplus(beta=1, threshold=20)</c>):
    /// beta travels as the activation's alpha, the threshold as its second parameter.
    /// </summary>
    Softplus,
}

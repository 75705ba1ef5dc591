package main

import (
	"fmt"

	_ "dario.cat/mergo"
	_ "github.com/disintegration/imaging"
	_ "github.com/nlpodyssey/safetensors"
	_ "github.com/sbinet/npyio"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/image/font/gofont/goregular"
	_ "gopkg.in/yaml.v3"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func main() {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 2), G.WithName("x"), G.WithInit(G.Ones()))
	y := G.Must(G.Sum(x))
	m := G.NewTapeMachine(g)
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println(y.Value())
}
